// observe::HugepageDemand: domain XML (decoded by kvmem::virt) to bytes per host node and page
// size, as a table with exact expected vectors; and libvirt's nodeset syntax.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "controller/observe/hugepage_demand.h"
#include "host/virt/decode.h"

namespace kvmem::observe {
namespace {

constexpr uint64_t MiB = 1ULL << 20, GiB = 1ULL << 30;
using Demand = std::vector<model::HugepageDemand>;

std::string PrintDemand(const Demand& d) {
  std::string s;
  for (const auto& e : d)
    s += "{" + std::to_string(e.node) + ", " + std::to_string(e.page_bytes) + ", " + std::to_string(e.bytes) + "} ";
  return s;
}

struct DemandRow {
  std::string name;
  std::string body;  // inside <domain>
  Demand want;
  uint64_t default_page = 2 * MiB;
};

TEST(HugepageDemand, Table) {
  const std::vector<DemandRow> rows = {
      {"not hugepage-backed", "<memory unit='GiB'>4</memory><numatune><memory nodeset='0'/></numatune>", {}},
      {"no numa cells, no numatune: default size, node unknown",
       "<memory unit='GiB'>4</memory><memoryBacking><hugepages/></memoryBacking>",
       {{-1, 2 * MiB, 4 * GiB}}},
      {"no numa cells, default size from the host is 1 GiB",
       "<memory unit='GiB'>4</memory><memoryBacking><hugepages/></memoryBacking>",
       {{-1, GiB, 4 * GiB}},
       GiB},
      {"2 cells pinned to host nodes 0 and 1, 2 MiB and 1 GiB pages",
       "<memory unit='GiB'>8</memory>"
       "<memoryBacking><hugepages><page size='2048' unit='KiB' nodeset='0'/>"
       "<page size='1' unit='GiB' nodeset='1'/></hugepages></memoryBacking>"
       "<numatune><memnode cellid='0' mode='strict' nodeset='0'/>"
       "<memnode cellid='1' mode='strict' nodeset='1'/></numatune>"
       "<cpu><numa><cell id='0' cpus='0-1' memory='3' unit='GiB'/>"
       "<cell id='1' cpus='2-3' memory='5' unit='GiB'/></numa></cpu>",
       {{0, 2 * MiB, 3 * GiB}, {1, GiB, 5 * GiB}}},
      {"interleave over two nodes: pages split evenly, rounded up per node",
       "<memory unit='MiB'>4098</memory><memoryBacking><hugepages/></memoryBacking>"
       "<numatune><memory mode='interleave' nodeset='0-1'/></numatune>",
       {{0, 2 * MiB, 2050 * MiB}, {1, 2 * MiB, 2050 * MiB}}},  // 2049 pages -> 1025 each
      {"interleave over one node is that node",
       "<memory unit='GiB'>2</memory><memoryBacking><hugepages/></memoryBacking>"
       "<numatune><memory mode='interleave' nodeset='3'/></numatune>",
       {{3, 2 * MiB, 2 * GiB}}},
      {"memnode interleave over three nodes, 5 pages of 1 GiB: 2 per node",
       "<memory unit='GiB'>5</memory><memoryBacking><hugepages><page size='1' unit='G'/></hugepages></memoryBacking>"
       "<numatune><memnode cellid='0' mode='interleave' nodeset='0-2'/></numatune>"
       "<cpu><numa><cell id='0' cpus='0' memory='5' unit='GiB'/></numa></cpu>",
       {{0, GiB, 2 * GiB}, {1, GiB, 2 * GiB}, {2, GiB, 2 * GiB}}},
      {"strict over several nodes: unknown",
       "<memory unit='GiB'>2</memory><memoryBacking><hugepages/></memoryBacking>"
       "<numatune><memory mode='strict' nodeset='0-1'/></numatune>",
       {{-1, 2 * MiB, 2 * GiB}}},
      {"preferred and restrictive over one node: that node",
       "<memory unit='GiB'>2</memory><memoryBacking><hugepages/></memoryBacking>"
       "<numatune><memory mode='restrictive' nodeset='1'/><memnode cellid='1' mode='preferred' nodeset='0'/></numatune>"
       "<cpu><numa><cell id='0' cpus='0' memory='1' unit='GiB'/><cell id='1' cpus='1' memory='1' "
       "unit='GiB'/></numa></cpu>",
       {{0, 2 * MiB, GiB}, {1, 2 * MiB, GiB}}},
      {"placement auto: no nodeset, unknown",
       "<memory unit='GiB'>2</memory><memoryBacking><hugepages/></memoryBacking>"
       "<numatune><memory mode='strict' placement='auto'/></numatune>",
       {{-1, 2 * MiB, 2 * GiB}}},
      {"cells without memnode share the <memory> rule; shares add up",
       "<memory unit='GiB'>6</memory><memoryBacking><hugepages/></memoryBacking>"
       "<numatune><memory mode='strict' nodeset='1'/><memnode cellid='0' nodeset='0'/></numatune>"
       "<cpu><numa><cell id='0' cpus='0' memory='1' unit='GiB'/><cell id='1' cpus='1' memory='2' unit='GiB'/>"
       "<cell id='2' cpus='2' memory='3' unit='GiB'/></numa></cpu>",
       {{0, 2 * MiB, GiB}, {1, 2 * MiB, 5 * GiB}}},
      {"a memnode over several nodes is unknown, not the <memory> node",
       "<memory unit='GiB'>2</memory><memoryBacking><hugepages/></memoryBacking>"
       "<numatune><memory mode='strict' nodeset='1'/><memnode cellid='0' mode='strict' nodeset='0-1'/></numatune>"
       "<cpu><numa><cell id='0' cpus='0' memory='2' unit='GiB'/></numa></cpu>",
       {{-1, 2 * MiB, 2 * GiB}}},
      {"virtio-mem present: base RAM only (<memory> minus the device)",
       "<memory unit='GiB'>6</memory><memoryBacking><hugepages><page size='1' unit='G'/></hugepages></memoryBacking>"
       "<numatune><memory mode='strict' nodeset='1'/></numatune>"
       "<devices><memory model='virtio-mem'><target><size unit='GiB'>4</size><node>0</node>"
       "<block unit='MiB'>2</block><requested unit='GiB'>1</requested></target></memory></devices>",
       {{1, GiB, 2 * GiB}}},
      {"virtio-mem with cells: the cells are base RAM",
       "<memory unit='GiB'>5</memory><memoryBacking><hugepages/></memoryBacking>"
       "<numatune><memory mode='strict' nodeset='0'/></numatune>"
       "<cpu><numa><cell id='0' cpus='0' memory='1' unit='GiB'/></numa></cpu>"
       "<devices><memory model='virtio-mem'><target><size unit='GiB'>4</size><node>0</node>"
       "<block unit='MiB'>2</block><requested unit='GiB'>0</requested></target></memory></devices>",
       {{0, 2 * MiB, GiB}}},
      {"odd sizes round up to whole pages",
       "<memory unit='KiB'>1048577</memory><memoryBacking><hugepages><page size='1048576'/></hugepages></memoryBacking>"
       "<numatune><memory nodeset='0'/></numatune>",
       {{0, GiB, 2 * GiB}}},
      {"odd cells round up per cell before adding",
       "<memory unit='KiB'>6146</memory><memoryBacking><hugepages/></memoryBacking>"
       "<numatune><memory nodeset='0'/></numatune>"
       "<cpu><numa><cell id='0' cpus='0' memory='3073'/><cell id='1' cpus='1' memory='3073'/></numa></cpu>",
       {{0, 2 * MiB, 8 * MiB}}},  // 2 pages per cell
      {"a page without nodeset covers the cells no other page names",
       "<memory unit='GiB'>3</memory><memoryBacking><hugepages><page size='1' unit='GiB'/>"
       "<page size='2' unit='MiB' nodeset='1'/></hugepages></memoryBacking>"
       "<cpu><numa><cell id='0' cpus='0' memory='2' unit='GiB'/><cell id='1' cpus='1' memory='1' "
       "unit='GiB'/></numa></cpu>",
       {{-1, 2 * MiB, GiB}, {-1, GiB, 2 * GiB}}},
      {"a nodeset that does not parse is unknown",
       "<memory unit='GiB'>1</memory><memoryBacking><hugepages/></memoryBacking>"
       "<numatune><memory mode='strict' nodeset='1-x'/></numatune>",
       {{-1, 2 * MiB, GiB}}},
      {"host default 0 falls back to 2 MiB",
       "<memory unit='MiB'>3</memory><memoryBacking><hugepages/></memoryBacking>",
       {{-1, 2 * MiB, 4 * MiB}},
       0},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.name);
    auto xml = virt::DecodeDomainXml("<domain type='kvm'>" + r.body + "</domain>");
    ASSERT_TRUE(xml) << xml.error().ToString();
    Demand got = HugepageDemand(*xml, r.default_page);
    EXPECT_EQ(got, r.want) << PrintDemand(got);
  }
}

TEST(HugepageDemand, NoMemoryElementIsNoDemand) {
  virt::DomainXml xml;
  xml.hugepages = true;
  EXPECT_TRUE(HugepageDemand(xml, 2 * MiB).empty());
}

TEST(ParseNodeset, LibvirtSyntax) {
  EXPECT_EQ(ParseNodeset("0"), (std::set<int>{0}));
  EXPECT_EQ(ParseNodeset("0-3,^2,8"), (std::set<int>{0, 1, 3, 8}));
  EXPECT_EQ(ParseNodeset("1,1,0"), (std::set<int>{0, 1}));
  EXPECT_EQ(ParseNodeset("0-1,^0-1"), std::set<int>{});
  EXPECT_EQ(ParseNodeset(""), std::nullopt);
  EXPECT_EQ(ParseNodeset("3-1"), std::nullopt);
  EXPECT_EQ(ParseNodeset("a"), std::nullopt);
  EXPECT_EQ(ParseNodeset("0,"), std::nullopt);
  EXPECT_EQ(ParseNodeset("-1"), std::nullopt);
  EXPECT_EQ(ParseNodeset("0-5000"), std::nullopt);  // more ids than any host has nodes
}

}  // namespace
}  // namespace kvmem::observe
