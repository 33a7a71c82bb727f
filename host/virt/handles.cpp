// libvirt process setup, error capture and opening connections.
#include "host/virt/handles.h"

#include <libvirt/virterror.h>

#include <chrono>
#include <mutex>
#include <thread>

#include "common/log.h"

namespace kvmem::virt {
namespace {

void QuietErrorHandler(void*, virErrorPtr) {}

}  // namespace

void InitLibvirt() {
  static std::once_flag once;
  std::call_once(once, [] {
    virInitialize();
    virSetErrorFunc(nullptr, QuietErrorHandler);
    if (virEventRegisterDefaultImpl() < 0) {
      log::Warn("libvirt event loop unavailable; keepalive and domain events are off",
                {{"err", LastError("virEventRegisterDefaultImpl").ToString()}});
      return;
    }
    // Detached on purpose: the loop serves every connection for the process lifetime and
    // virEventRunDefaultImpl cannot be interrupted portably.
    std::thread([] {
      for (;;) {
        if (virEventRunDefaultImpl() < 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }).detach();
  });
}

Error LastError(std::string_view what, const std::string& uri) {
  virErrorPtr err = virGetLastError();
  std::string msg(what);
  msg += ": ";
  msg += (err && err->message) ? err->message : "unknown libvirt error";
  return Error{ErrorKind::kLibvirt, std::move(msg), uri, 0};
}

int LastErrorCode() {
  virErrorPtr err = virGetLastError();
  return err ? err->code : VIR_ERR_OK;
}

Result<ConnectPtr> OpenReadOnly(const std::string& uri) {
  InitLibvirt();
  ConnectPtr conn(virConnectOpenReadOnly(uri.c_str()));
  if (!conn) return tl::unexpected(LastError("virConnectOpenReadOnly", uri));
  // Keepalive lets a dead daemon be noticed during a call; drivers without RPC (test:///)
  // answer "not supported", which is fine.
  if (virConnectSetKeepAlive(conn.get(), 5, 3) < 0) virResetLastError();
  return conn;
}

}  // namespace kvmem::virt
