// Starts the sonar-pr-gate binary for this agent's platform with the argument `task`.
//
// The agent runs native executables directly only on Windows, so every platform goes through this
// Node handler. Rules (see the agent's NodeHandler and task-lib's _loadData):
// - core modules only, and syntax any agent Node (10 and up) runs;
// - never load azure-pipelines-task-lib: on import it moves INPUT_*, ENDPOINT_* and SECRET_* out of
//   process.env, and the binary would see none of them;
// - the child inherits the environment and stdio, so the agent reads its ##vso commands directly;
// - SIGINT and SIGTERM (the agent's cancellation) are passed on, and the child's status is ours.
'use strict';

var childProcess = require('child_process');
var fs = require('fs');
var path = require('path');

var PLATFORMS = {
  'linux-x64': 'sonar-pr-gate',
  'linux-x64-musl': 'sonar-pr-gate',
  'linux-arm64': 'sonar-pr-gate',
  'win32-x64': 'sonar-pr-gate.exe',
  'darwin-x64': 'sonar-pr-gate',
  'darwin-arm64': 'sonar-pr-gate'
};

function escapeData(text) {
  return String(text).replace(/%/g, '%AZP25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function extensionVersion() {
  try {
    var v = JSON.parse(fs.readFileSync(path.join(__dirname, 'task.json'), 'utf8')).version;
    return v.Major + '.' + v.Minor + '.' + v.Patch;
  } catch (e) {
    return 'unknown';
  }
}

function fail(message) {
  var text = message + ' (sonar-pr-gate ' + extensionVersion() + ')';
  process.stdout.write('##vso[task.logissue type=error]' + escapeData(text) + '\n');
  process.stdout.write('##vso[task.complete result=Failed]' + escapeData(text) + '\n');
  process.exit(1);
}

// Packaging may lose the executable bit (tfx's zips carry no mode bits); set it, or run a copy from
// the job's temp folder when the task folder is read-only.
function ensureExecutable(binary) {
  if (process.platform === 'win32') {
    return binary;
  }
  try {
    fs.chmodSync(binary, 493); // 0o755
    return binary;
  } catch (e) {
    var temp = process.env.AGENT_TEMPDIRECTORY || require('os').tmpdir();
    var copy = path.join(temp, 'sonar-pr-gate-' + extensionVersion() + '-' + path.basename(binary));
    try {
      fs.copyFileSync(binary, copy);
      fs.chmodSync(copy, 493);
      return copy;
    } catch (e2) {
      fail('Cannot make ' + binary + ' executable (' + e.message + ') nor copy it to ' + copy + ' (' + e2.message + ')');
    }
  }
  return binary;
}

// Whether this Linux runs on glibc: Node's report names the glibc it runs with, and has no such
// field on musl (Alpine containers). Node before 12 has no report; agents there run glibc.
function hasGlibc() {
  try {
    return !process.report || !!process.report.getReport().header.glibcVersionRuntime;
  } catch (e) {
    return true;
  }
}

// The binary folder for this agent: <platform>-<arch>, except that an x64 Linux without glibc, or
// an extension without the glibc build, takes the static musl build, which runs on any x64 Linux.
function platformFolder() {
  var platform = process.platform + '-' + process.arch;
  if (platform === 'linux-x64') {
    var musl = path.join(__dirname, 'bin', 'linux-x64-musl', PLATFORMS['linux-x64-musl']);
    var glibc = path.join(__dirname, 'bin', 'linux-x64', PLATFORMS['linux-x64']);
    if (fs.existsSync(musl) && (!hasGlibc() || !fs.existsSync(glibc))) {
      return 'linux-x64-musl';
    }
  }
  return platform;
}

function main() {
  var platform = platformFolder();
  var name = PLATFORMS[platform];
  if (!name) {
    fail('This agent runs on ' + platform + ', which sonar-pr-gate has no binary for. Supported: ' +
      Object.keys(PLATFORMS).join(', ') + '. Use an agent on one of those platforms');
  }
  var binary = path.join(__dirname, 'bin', platform, name);
  if (!fs.existsSync(binary)) {
    fail('The sonar-pr-gate binary for ' + platform + ' is missing from this extension (expected ' + binary +
      '). The extension was packaged without it; install a build of the extension that includes ' + platform);
  }
  binary = ensureExecutable(binary);

  // The handlers go in before the child starts: a cancellation that arrives while it is being
  // started is then delivered once `child` is set (Node runs signal handlers between events), and
  // never kills the launcher alone while the binary goes on running.
  var child = null;
  var forward = function (signal) {
    return function () {
      try {
        if (child) {
          child.kill(signal);
        }
      } catch (e) {
        // The child has already gone.
      }
    };
  };
  process.on('SIGINT', forward('SIGINT'));
  process.on('SIGTERM', forward('SIGTERM'));
  child = childProcess.spawn(binary, ['task'], { stdio: 'inherit', env: process.env });
  child.on('error', function (err) {
    fail('Could not start ' + binary + ': ' + err.message);
  });
  child.on('exit', function (code, signal) {
    if (signal) {
      // Ended by a signal (cancellation): report it as a failure exit, as a shell would.
      process.exit(128 + (require('os').constants.signals[signal] || 1));
    }
    process.exit(code === null ? 1 : code);
  });
}

main();
