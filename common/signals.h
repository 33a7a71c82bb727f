// Signal handling for the daemons without async-signal-safety hazards: block the signals in
// every thread at start-up, then wait for them synchronously on the main thread.
#pragma once

namespace kvmem {

// Call first in main(), before any thread starts: blocks SIGINT, SIGTERM and SIGHUP.
void BlockShutdownSignals();
// Waits for SIGINT, SIGTERM or SIGHUP and returns its number.
int WaitForSignal();

}  // namespace kvmem
