// libvirt writes: balloon and virtio-mem.
#include "controller/actuate/libvirt.h"

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <chrono>

#include "controller/actuate/libvirt_connection.h"
#include "host/virt/decode.h"
#include "host/virt/handles.h"

namespace kvmem::actuate {
namespace {

model::Outcome Failure(std::string error) {
  model::Outcome o;
  o.ok = false;
  o.error = std::move(error);
  return o;
}

}  // namespace

struct LibvirtActuator::Impl {
  std::unique_ptr<LibvirtConnection> owned;  // when constructed from a URI
  LibvirtConnection* lv = nullptr;

  Result<virt::DomainPtr> Domain(const model::VmRef& vm) { return lv->Domain(vm); }

  // A failed call may mean a dead connection: drop it so the next action reconnects.
  model::Outcome Failed(const Error& e) {
    lv->DropIfDead();
    return Failure(e.ToString());
  }

  model::Outcome Balloon(const model::SetBalloon& a) {
    auto d = Domain(a.vm);
    if (!d) return Failed(d.error());
    // The controller's sizes include plugged virtio-mem memory (as balloon.current does), but
    // virDomainSetMemoryFlags sets the balloon over base RAM only: subtract what is plugged.
    virt::CStringPtr xml(virDomainGetXMLDesc(d->get(), 0));
    if (!xml) return Failed(virt::LastError("virDomainGetXMLDesc " + a.vm.name, lv->uri()));
    auto facts = virt::DecodeDomainXml(xml.get());
    if (!facts) return Failed(facts.error());
    uint64_t plugged = 0;
    for (const auto& m : facts->virtio_mem) plugged += m.current_bytes.value_or(m.requested_bytes);
    if (a.to_bytes <= plugged) {
      return Failure("target " + std::to_string(a.to_bytes) + " B is not above the " + std::to_string(plugged) +
                     " B of plugged virtio-mem memory");
    }
    if (virDomainSetMemoryFlags(d->get(), (a.to_bytes - plugged) / 1024, VIR_DOMAIN_AFFECT_LIVE) < 0) {
      return Failed(virt::LastError("virDomainSetMemoryFlags " + a.vm.name, lv->uri()));
    }
    // No read-back here: the balloon reaches its target 0.1-0.5 s later, and the next
    // observation shows what the guest really gave.
    return {};
  }

  model::Outcome VirtioMem(const model::ResizeVirtioMem& a) {
    auto d = Domain(a.vm);
    if (!d) return Failed(d.error());
    virt::CStringPtr xml(virDomainGetXMLDesc(d->get(), 0));
    if (!xml) return Failed(virt::LastError("virDomainGetXMLDesc " + a.vm.name, lv->uri()));
    auto device = VirtioMemDeviceXml(xml.get(), a.alias, a.to_requested_bytes / 1024);
    if (!device) return Failed(device.error());
    if (virDomainUpdateDeviceFlags(d->get(), device->c_str(), VIR_DOMAIN_AFFECT_LIVE) < 0) {
      return Failed(virt::LastError("virDomainUpdateDeviceFlags " + a.vm.name + " " + a.alias, lv->uri()));
    }
    return {};
  }
};

LibvirtActuator::LibvirtActuator(std::string uri) : impl_(std::make_unique<Impl>()) {
  impl_->owned = std::make_unique<LibvirtConnection>(std::move(uri));
  impl_->lv = impl_->owned.get();
}

LibvirtActuator::LibvirtActuator(LibvirtConnection& connection) : impl_(std::make_unique<Impl>()) {
  impl_->lv = &connection;
}

LibvirtActuator::~LibvirtActuator() = default;

Result<uint64_t> LibvirtActuator::LiveMemoryBytes(const std::string& uuid) {
  auto d = impl_->Domain({uuid, uuid});
  if (!d) return tl::unexpected(d.error());
  virDomainInfo info{};
  if (virDomainGetInfo(d->get(), &info) < 0) return tl::unexpected(virt::LastError("virDomainGetInfo", impl_->lv->uri()));
  return static_cast<uint64_t>(info.memory) * 1024;
}

model::Outcome LibvirtActuator::Apply(const model::Action& action) noexcept {
  auto start = std::chrono::steady_clock::now();
  model::Outcome out;
  try {
    if (const auto* b = std::get_if<model::SetBalloon>(&action)) out = impl_->Balloon(*b);
    else if (const auto* v = std::get_if<model::ResizeVirtioMem>(&action)) out = impl_->VirtioMem(*v);
    else out = Failure("the libvirt actuator does not " + model::Summary(action));
  } catch (const std::exception& e) {
    out = Failure(e.what());
  }
  out.duration = std::chrono::duration_cast<model::Duration>(std::chrono::steady_clock::now() - start);
  return out;
}

namespace {

struct DocFreer {
  void operator()(xmlDocPtr d) const noexcept { xmlFreeDoc(d); }
};

std::string Attr(xmlNodePtr n, const char* name) {
  xmlChar* v = xmlGetProp(n, reinterpret_cast<const xmlChar*>(name));
  std::string out = v ? reinterpret_cast<const char*>(v) : "";
  xmlFree(v);
  return out;
}

xmlNodePtr Child(xmlNodePtr n, const char* name) {
  for (xmlNodePtr c = n ? n->children : nullptr; c; c = c->next) {
    if (c->type == XML_ELEMENT_NODE && xmlStrcmp(c->name, reinterpret_cast<const xmlChar*>(name)) == 0) return c;
  }
  return nullptr;
}

}  // namespace

Result<std::string> VirtioMemDeviceXml(const std::string& domain_xml, const std::string& alias,
                                       uint64_t requested_kib) {
  std::unique_ptr<xmlDoc, DocFreer> doc(xmlReadMemory(domain_xml.data(), static_cast<int>(domain_xml.size()),
                                                      "domain.xml", nullptr, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
  if (!doc) return Fail(ErrorKind::kParse, "cannot parse the domain XML", alias);
  xmlNodePtr devices = Child(xmlDocGetRootElement(doc.get()), "devices");
  int index = 0;
  const std::string synthetic = "virtio-mem";
  for (xmlNodePtr m = devices ? devices->children : nullptr; m; m = m->next) {
    if (m->type != XML_ELEMENT_NODE || xmlStrcmp(m->name, reinterpret_cast<const xmlChar*>("memory")) != 0 ||
        Attr(m, "model") != "virtio-mem") {
      continue;
    }
    std::string name = Attr(Child(m, "alias"), "name");
    bool match = name == alias || (name.empty() && alias == synthetic + std::to_string(index));
    ++index;
    if (!match) continue;
    xmlNodePtr target = Child(m, "target");
    xmlNodePtr requested = Child(target, "requested");
    if (!requested) return Fail(ErrorKind::kParse, "virtio-mem device has no <target><requested>", alias);
    std::string kib = std::to_string(requested_kib);
    xmlNodeSetContent(requested, reinterpret_cast<const xmlChar*>(kib.c_str()));
    xmlSetProp(requested, reinterpret_cast<const xmlChar*>("unit"), reinterpret_cast<const xmlChar*>("KiB"));
    xmlBufferPtr buf = xmlBufferCreate();
    xmlNodeDump(buf, doc.get(), m, 0, 0);
    std::string out(reinterpret_cast<const char*>(xmlBufferContent(buf)), static_cast<size_t>(xmlBufferLength(buf)));
    xmlBufferFree(buf);
    return out;
  }
  return Fail(ErrorKind::kNotFound, "no virtio-mem device with this alias in the live domain XML", alias);
}

}  // namespace kvmem::actuate
