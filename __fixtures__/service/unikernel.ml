(* example/hello that stays up, for the host updater's end-to-end test
   (__tests__/integration/host-pull-bundle.test.ts): it logs hello with its version and boot
   arguments, then, given --control=FIFO, sleeps until a request arrives on that fifo and answers
   each in its log, for ever. Without --control it exits like hello. [broken] stands for a bad
   build: it logs and exits 2. The test rewrites [version] and [broken] between deploys. *)

module Hello = struct
  let version = "v1"
  let broken = false

  let boot_arg name =
    let prefix = "--" ^ name ^ "=" in
    let n = String.length prefix in
    Array.fold_left
      (fun found a ->
        if String.length a > n && String.sub a 0 n = prefix then
          Some (String.sub a n (String.length a - n))
        else found)
      None Sys.argv

  let rec serve fifo =
    let ic = open_in fifo in
    (match input_line ic with
    | request -> Logs.info (fun f -> f "%s: %s" request version)
    | exception End_of_file -> ());
    close_in ic;
    serve fifo

  let start () =
    let args = List.tl (Array.to_list Sys.argv) in
    Logs.info (fun f -> f "hello %s, boot arguments: %s" version (String.concat " " args));
    if broken then (
      Logs.err (fun f -> f "%s is broken" version);
      exit 2);
    match boot_arg "control" with None -> Lwt.return_unit | Some fifo -> serve fifo
end
