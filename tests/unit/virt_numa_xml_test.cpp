// Domain XML decoding of what hugepage demand and placement need: guest NUMA cells,
// <numatune> memnodes and placement, <page nodeset>, and the pinning markers in <cputune>.
#include <gtest/gtest.h>

#include "host/virt/decode.h"

namespace kvmem::virt {
namespace {

constexpr uint64_t MiB = 1ULL << 20, GiB = 1ULL << 30;

TEST(DecodeDomainXmlNuma, CellsMemnodesPagesAndPins) {
  auto x = DecodeDomainXml(R"(<domain type='kvm'><name>db</name>
    <memory unit='KiB'>6291456</memory>
    <memoryBacking><hugepages>
      <page size='2048' unit='KiB' nodeset='0'/>
      <page size='1' unit='GiB' nodeset='1-2'/>
    </hugepages></memoryBacking>
    <vcpu placement='static' cpuset='0-7'>4</vcpu>
    <cputune>
      <vcpupin vcpu='0' cpuset='1'/>
      <emulatorpin cpuset='0'/>
    </cputune>
    <numatune>
      <memory mode='preferred' nodeset='0-1' placement='static'/>
      <memnode cellid='0' mode='strict' nodeset='0'/>
      <memnode cellid='1' mode='interleave' nodeset='0-1'/>
      <memnode cellid='2' nodeset='1'/>
    </numatune>
    <cpu mode='host-passthrough'><numa>
      <cell id='0' cpus='0-1' memory='2' unit='GiB'/>
      <cell id='1' cpus='2' memory='3145728'/>
      <cell id='2' cpus='3' memory='1024' unit='MiB' memAccess='shared'/>
    </numa></cpu>
  </domain>)");
  ASSERT_TRUE(x) << x.error().ToString();
  EXPECT_TRUE(x->hugepages);
  EXPECT_EQ(x->hugepage_sizes_bytes, (std::vector<uint64_t>{2 * MiB, GiB}));
  EXPECT_EQ(x->hugepage_pages, (std::vector<HugepagePage>{{2 * MiB, "0"}, {GiB, "1-2"}}));
  EXPECT_EQ(x->numa_cells, (std::vector<GuestCell>{{0, 2 * GiB}, {1, 3 * GiB}, {2, GiB}}));
  EXPECT_EQ(x->numatune_mode, "preferred");
  EXPECT_EQ(x->numatune_nodeset, "0-1");
  EXPECT_EQ(x->numatune_placement, "static");
  EXPECT_EQ(x->memnodes,
            (std::vector<MemNode>{
                {0, "strict", "0"}, {1, "interleave", "0-1"}, {2, "strict", "1"}}));  // libvirt's default mode
  EXPECT_TRUE(x->vcpupin);
  EXPECT_TRUE(x->emulatorpin);
  EXPECT_EQ(x->vcpu_cpuset, "0-7");
}

TEST(DecodeDomainXmlNuma, AbsentElementsLeaveEverythingEmpty) {
  auto x = DecodeDomainXml(
      "<domain><memory>1024</memory><vcpu>2</vcpu>"
      "<cputune><shares>1024</shares></cputune>"
      "<numatune><memory placement='auto'/></numatune></domain>");
  ASSERT_TRUE(x);
  EXPECT_FALSE(x->hugepages);
  EXPECT_TRUE(x->hugepage_pages.empty());
  EXPECT_TRUE(x->numa_cells.empty());
  EXPECT_TRUE(x->memnodes.empty());
  EXPECT_EQ(x->numatune_placement, "auto");
  EXPECT_EQ(x->numatune_nodeset, "");
  EXPECT_FALSE(x->vcpupin);
  EXPECT_FALSE(x->emulatorpin);
  EXPECT_EQ(x->vcpu_cpuset, "");
}

TEST(DecodeDomainXmlNuma, HugepagesWithoutPagesAndBrokenEntriesAreSkipped) {
  // <hugepages/> alone: the host default size; a page with a bad unit and a cell or memnode
  // without a numeric id are dropped, not fatal.
  auto x = DecodeDomainXml(
      "<domain><memoryBacking><hugepages>"
      "<page size='2' unit='parsecs'/><page size='1048576'/></hugepages></memoryBacking>"
      "<numatune><memnode cellid='x' nodeset='0'/><memnode cellid='1' mode='preferred' nodeset='1'/></numatune>"
      "<cpu><numa><cell id='a' memory='1'/><cell id='3' memory='64' unit='MiB'/></numa></cpu></domain>");
  ASSERT_TRUE(x);
  EXPECT_TRUE(x->hugepages);
  EXPECT_EQ(x->hugepage_pages, (std::vector<HugepagePage>{{GiB, ""}}));  // default unit KiB
  EXPECT_EQ(x->hugepage_sizes_bytes, std::vector<uint64_t>{GiB});
  EXPECT_EQ(x->memnodes, (std::vector<MemNode>{{1, "preferred", "1"}}));
  EXPECT_EQ(x->numa_cells, (std::vector<GuestCell>{{3, 64 * MiB}}));
  auto bare = DecodeDomainXml("<domain><memoryBacking><hugepages/></memoryBacking></domain>");
  ASSERT_TRUE(bare);
  EXPECT_TRUE(bare->hugepages);
  EXPECT_TRUE(bare->hugepage_pages.empty());
}

}  // namespace
}  // namespace kvmem::virt
