// libvirt RAII handles, error capture and the one-time process setup (quiet error handler,
// default event loop thread for keepalive). Internal to kvmem::virt: it names libvirt types.
// Handles follow libvirt's rules: a connection may be used from several threads, but
// kvmem uses each one from its owner's worker thread only. Nothing here throws except
// std::bad_alloc; deleters are noexcept.
#pragma once

#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include <libvirt/libvirt.h>

#include "common/result.h"

namespace kvmem::virt {

struct ConnectCloser {
  // A positive return is the count of references still held (e.g. by event callbacks), not an error.
  void operator()(virConnectPtr c) const noexcept { virConnectClose(c); }
};
struct DomainFreer {
  void operator()(virDomainPtr d) const noexcept { virDomainFree(d); }
};
struct StatsListFreer {
  void operator()(virDomainStatsRecordPtr* list) const noexcept { virDomainStatsRecordListFree(list); }
};
struct MallocFreer {
  void operator()(char* p) const noexcept { std::free(p); }
};

using ConnectPtr = std::unique_ptr<virConnect, ConnectCloser>;
using DomainPtr = std::unique_ptr<virDomain, DomainFreer>;
using StatsListPtr = std::unique_ptr<virDomainStatsRecordPtr, StatsListFreer>;
using CStringPtr = std::unique_ptr<char, MallocFreer>;

// Once per process, idempotent and thread-safe: virInitialize, a quiet error handler so
// libvirt never prints to stderr, and the default event loop on one detached thread (needed
// for keepalive and domain events). Must run before the first connection is opened.
void InitLibvirt();

// Copies the calling thread's last libvirt error now, before another call replaces it.
// `what` names the call ("virConnectGetAllDomainStats"); `uri` goes into Error::file.
Error LastError(std::string_view what, const std::string& uri = {});
// The last error's code (virErrorNumber), or VIR_ERR_OK.
int LastErrorCode();

// virConnectOpenReadOnly, then keepalive (5 s interval, 3 missed = dead) where the driver
// supports it. Errors are kLibvirt with libvirt's message.
Result<ConnectPtr> OpenReadOnly(const std::string& uri);

}  // namespace kvmem::virt
