// Domain and capabilities XML decoding with libxml2's tree API.
#include <libxml/parser.h>
#include <libxml/tree.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <memory>
#include <mutex>

#include "host/virt/decode.h"

namespace kvmem::virt {
namespace {

struct DocFree {
  void operator()(xmlDoc* d) const noexcept { xmlFreeDoc(d); }
};
using DocPtr = std::unique_ptr<xmlDoc, DocFree>;

Result<DocPtr> Parse(std::string_view xml, const char* root_name, const char* what) {
  static std::once_flag once;
  std::call_once(once, [] { xmlInitParser(); });
  if (xml.size() > static_cast<size_t>(INT32_MAX)) return Fail(ErrorKind::kParse, "XML too large", what);
  // NONET: never fetch a DTD; NOERROR/NOWARNING: libxml2 must not print to stderr.
  DocPtr doc(xmlReadMemory(xml.data(), static_cast<int>(xml.size()), what, nullptr,
                           XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
  if (!doc) return Fail(ErrorKind::kParse, "not well-formed XML", what);
  xmlNode* root = xmlDocGetRootElement(doc.get());
  if (!root || std::strcmp(reinterpret_cast<const char*>(root->name), root_name) != 0) {
    return Fail(ErrorKind::kParse, std::string("root element is not <") + root_name + ">", what);
  }
  return doc;
}

bool IsElement(const xmlNode* n, const char* name) {
  return n->type == XML_ELEMENT_NODE && std::strcmp(reinterpret_cast<const char*>(n->name), name) == 0;
}

const xmlNode* Child(const xmlNode* parent, const char* name) {
  if (!parent) return nullptr;
  for (const xmlNode* c = parent->children; c; c = c->next) {
    if (IsElement(c, name)) return c;
  }
  return nullptr;
}

template <class Fn>
void ForChildren(const xmlNode* parent, const char* name, Fn&& fn) {
  if (!parent) return;
  for (const xmlNode* c = parent->children; c; c = c->next) {
    if (IsElement(c, name)) fn(c);
  }
}

std::string Attr(const xmlNode* n, const char* name) {
  if (!n) return {};
  xmlChar* v = xmlGetProp(n, reinterpret_cast<const xmlChar*>(name));
  if (!v) return {};
  std::string out(reinterpret_cast<const char*>(v));
  xmlFree(v);
  return out;
}

std::string Text(const xmlNode* n) {
  if (!n) return {};
  xmlChar* v = xmlNodeGetContent(n);
  if (!v) return {};
  std::string out(reinterpret_cast<const char*>(v));
  xmlFree(v);
  size_t b = out.find_first_not_of(" \t\r\n"), e = out.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? std::string() : out.substr(b, e - b + 1);
}

std::optional<uint64_t> U64(std::string_view s) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// <memory unit='KiB'>N</memory> and the like.
std::optional<uint64_t> SizeOf(const xmlNode* n) {
  if (!n) return std::nullopt;
  return ScaledBytes(Text(n), Attr(n, "unit"));
}

bool OnOff(const xmlNode* n, const char* attr) { return Attr(n, attr) == "on"; }

void DecodeVirtioMem(const xmlNode* devices, DomainXml& out) {
  ForChildren(devices, "memory", [&](const xmlNode* mem) {
    if (Attr(mem, "model") != "virtio-mem") return;
    const xmlNode* target = Child(mem, "target");
    VirtioMem v;
    v.alias = Attr(Child(mem, "alias"), "name");
    if (v.alias.empty()) v.alias = "virtio-mem" + std::to_string(out.virtio_mem.size());
    if (auto node = U64(Text(Child(target, "node"))); node && *node < 1'000'000) v.node = static_cast<int>(*node);
    v.size_bytes = SizeOf(Child(target, "size")).value_or(0);
    v.block_bytes = SizeOf(Child(target, "block")).value_or(0);
    v.requested_bytes = SizeOf(Child(target, "requested")).value_or(0);
    v.current_bytes = SizeOf(Child(target, "current"));
    out.virtio_mem.push_back(std::move(v));
  });
}

// Guest cells, memnodes and the pinning markers: the facts hugepage demand and the
// placement rules need.
void DecodeNuma(const xmlNode* dom, DomainXml& out) {
  ForChildren(Child(Child(dom, "cpu"), "numa"), "cell", [&](const xmlNode* cell) {
    auto id = U64(Attr(cell, "id"));
    if (!id || *id > 1'000'000) return;
    // <cell memory unit>: the size is an attribute here, not element text.
    auto bytes = ScaledBytes(Attr(cell, "memory"), Attr(cell, "unit"));
    out.numa_cells.push_back({static_cast<int>(*id), bytes.value_or(0)});
  });
  const xmlNode* numatune = Child(dom, "numatune");
  if (const xmlNode* mem = Child(numatune, "memory")) out.numatune_placement = Attr(mem, "placement");
  ForChildren(numatune, "memnode", [&](const xmlNode* memnode) {
    auto cellid = U64(Attr(memnode, "cellid"));
    if (!cellid || *cellid > 1'000'000) return;
    MemNode m{static_cast<int>(*cellid), Attr(memnode, "mode"), Attr(memnode, "nodeset")};
    if (m.mode.empty()) m.mode = "strict";  // libvirt's default mode
    out.memnodes.push_back(std::move(m));
  });
  const xmlNode* cputune = Child(dom, "cputune");
  out.vcpupin = Child(cputune, "vcpupin") != nullptr;
  out.emulatorpin = Child(cputune, "emulatorpin") != nullptr;
  out.vcpu_cpuset = Attr(Child(dom, "vcpu"), "cpuset");
  ForChildren(Child(dom, "metadata"), "placement", [&](const xmlNode* mark) {
    if (!mark->ns || !mark->ns->href ||
        std::strcmp(reinterpret_cast<const char*>(mark->ns->href), kKvmemPlacementNs) != 0)
      return;
    if (auto node = U64(Attr(mark, "vcpus-node")); node && *node < 1'000'000)
      out.kvmem_pinned_node = static_cast<int>(*node);
  });
  ForChildren(Child(dom, "metadata"), "memory", [&](const xmlNode* mark) {
    if (!mark->ns || !mark->ns->href || std::strcmp(reinterpret_cast<const char*>(mark->ns->href), kKvmemMemoryNs) != 0)
      return;
    const std::string text = Attr(mark, "priority");
    const bool negative = !text.empty() && text[0] == '-';
    auto magnitude = U64(negative ? std::string_view(text).substr(1) : std::string_view(text));
    if (magnitude && *magnitude <= 1000)
      out.kvmem_priority =
          static_cast<int>(negative ? -static_cast<int64_t>(*magnitude) : static_cast<int64_t>(*magnitude));
  });
}

}  // namespace

std::optional<uint64_t> ScaledBytes(std::string_view value, std::string_view unit, uint64_t default_scale) {
  auto v = U64(value);
  if (!v) return std::nullopt;
  std::string u(unit);
  std::transform(u.begin(), u.end(), u.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  uint64_t scale = 0;
  if (u.empty())
    scale = default_scale;
  else if (u == "b" || u == "bytes")
    scale = 1;
  else {
    // libvirt: "KB"/"MB"/... are powers of 1000; "k"/"KiB"/"M"/"MiB"/... powers of 1024.
    static constexpr std::string_view kPrefixes = "kmgtpe";
    size_t power = kPrefixes.find(u[0]);
    std::string_view rest = std::string_view(u).substr(1);
    uint64_t base = 0;
    if (rest.empty() || rest == "ib")
      base = 1024;
    else if (rest == "b")
      base = 1000;
    if (power == std::string_view::npos || base == 0) return std::nullopt;
    scale = 1;
    for (size_t i = 0; i <= power; ++i) scale *= base;
  }
  if (scale != 0 && *v > UINT64_MAX / scale) return std::nullopt;
  return *v * scale;
}

Result<DomainXml> DecodeDomainXml(std::string_view xml) {
  auto doc = Parse(xml, "domain", "domain XML");
  if (!doc) return tl::unexpected(doc.error());
  const xmlNode* dom = xmlDocGetRootElement(doc->get());
  DomainXml out;
  out.memory_bytes = SizeOf(Child(dom, "memory"));
  out.current_memory_bytes = SizeOf(Child(dom, "currentMemory"));
  if (const xmlNode* max = Child(dom, "maxMemory")) {
    out.max_memory_bytes = SizeOf(max);
    out.max_memory_slots = U64(Attr(max, "slots"));
  }
  out.vcpus_max = U64(Text(Child(dom, "vcpu")));
  out.nosharepages = Child(Child(dom, "memoryBacking"), "nosharepages") != nullptr;
  if (const xmlNode* huge = Child(Child(dom, "memoryBacking"), "hugepages")) {
    out.hugepages = true;
    ForChildren(huge, "page", [&](const xmlNode* page) {
      auto b = ScaledBytes(Attr(page, "size"), Attr(page, "unit"));
      if (!b) return;
      out.hugepage_sizes_bytes.push_back(*b);
      out.hugepage_pages.push_back({*b, Attr(page, "nodeset")});
    });
    auto& s = out.hugepage_sizes_bytes;
    std::sort(s.begin(), s.end());
    s.erase(std::unique(s.begin(), s.end()), s.end());
  }
  if (const xmlNode* mem = Child(Child(dom, "numatune"), "memory")) {
    out.numatune_mode = Attr(mem, "mode");
    if (out.numatune_mode.empty()) out.numatune_mode = "strict";  // libvirt's default mode
    out.numatune_nodeset = Attr(mem, "nodeset");
  }
  DecodeNuma(dom, out);
  out.min_guarantee_bytes = SizeOf(Child(Child(dom, "memtune"), "min_guarantee"));
  const xmlNode* devices = Child(dom, "devices");
  if (const xmlNode* balloon = Child(devices, "memballoon")) {
    out.balloon_model = Attr(balloon, "model");
    if (out.balloon_model == "none") out.balloon_model.clear();
    if (const xmlNode* stats = Child(balloon, "stats")) out.balloon_stats_period = U64(Attr(stats, "period"));
    out.autodeflate = OnOff(balloon, "autodeflate");
    out.free_page_reporting = OnOff(balloon, "freePageReporting");
  }
  ForChildren(devices, "hostdev", [&](const xmlNode*) { out.device_assignment = true; });
  ForChildren(devices, "interface", [&](const xmlNode* i) {
    if (Attr(i, "type") == "hostdev") out.device_assignment = true;
  });
  DecodeVirtioMem(devices, out);
  return out;
}

Result<std::vector<CapsCell>> DecodeCapabilitiesCells(std::string_view xml) {
  auto doc = Parse(xml, "capabilities", "capabilities XML");
  if (!doc) return tl::unexpected(doc.error());
  const xmlNode* cells = Child(Child(Child(xmlDocGetRootElement(doc->get()), "host"), "topology"), "cells");
  std::vector<CapsCell> out;
  ForChildren(cells, "cell", [&](const xmlNode* cell) {
    auto id = U64(Attr(cell, "id"));
    if (!id || *id > 1'000'000) return;
    CapsCell c{static_cast<int>(*id), {}};
    ForChildren(cell, "pages", [&](const xmlNode* pages) {
      if (auto b = ScaledBytes(Attr(pages, "size"), Attr(pages, "unit"))) c.page_bytes.push_back(*b);
    });
    std::sort(c.page_bytes.begin(), c.page_bytes.end());
    out.push_back(std::move(c));
  });
  std::sort(out.begin(), out.end(), [](const CapsCell& a, const CapsCell& b) { return a.id < b.id; });
  return out;
}

}  // namespace kvmem::virt
