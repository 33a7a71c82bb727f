// The live virtio-mem device XML with a new <requested> size (libxml2), for
// virDomainUpdateDeviceFlags.
#include <libxml/parser.h>
#include <libxml/tree.h>

#include <memory>

#include "host/write/libvirt_writer.h"

namespace kvmem::hostwrite {
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
                                                      "domain.xml", nullptr,
                                                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
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

}  // namespace kvmem::hostwrite
