// The writer's live connection as a libvirt handle, for code inside the host layer and for
// tests that must look over the same connection (the test driver's state lives as long as one
// connection). The actuate layer may not include this: it names libvirt types.
#pragma once

#include <libvirt/libvirt.h>

#include "host/write/libvirt_writer.h"

namespace kvmem::hostwrite {

// Opened (or reopened) now if needed.
Result<virConnectPtr> ConnectionOf(LibvirtWriter& writer);

}  // namespace kvmem::hostwrite
