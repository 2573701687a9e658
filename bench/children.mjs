// The child processes a benchmark starts itself (a demo replica, a tiny target): how they are
// started without what slows them, waited for, and stopped.

/** Environment for a child that needs no extra CA: NODE_EXTRA_CA_CERTS costs every Node start 70-80 ms here. */
export function childEnv(extra = {}) {
  const env = { ...process.env, ...extra };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

/** SIGKILL, by PID, for a child that is still running. */
export function stopChild(child) {
  if (child && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
}

/** Resolves with the match once `pattern` matches the child's output (stdout and stderr), or rejects when it exits or `timeoutMs` runs out. */
export function waitForOutput(child, what, pattern, timeoutMs) {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start within ${timeoutMs} ms: ${seen}`)), timeoutMs);
    const onData = (chunk) => {
      seen += String(chunk);
      const match = pattern.exec(seen);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with code ${code}: ${seen}`));
    });
  });
}
