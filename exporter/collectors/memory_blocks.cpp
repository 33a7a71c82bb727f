// The memory_blocks collector: hotplug block size and online/offline blocks per node.
#include "host/procfs/memory_blocks.h"
#include "exporter/collectors/collectors.h"
#include "exporter/collectors/common.h"
#include "host/procfs/node.h"

namespace kvmem::collectors {
namespace {

const FamilyDesc kBlockSize{"kvmem_memory_block_size_bytes",
                            "Size of one memory hotplug block (/sys/devices/system/memory/block_size_bytes).",
                            kGauge,
                            {}};
const FamilyDesc kBlocks{"kvmem_node_memory_blocks",
                         "Memory hotplug blocks on the node by state (online or offline).",
                         kGauge,
                         {"node", "state"}};
const FamilyDesc kAutoOnline{"kvmem_memory_auto_online_info",
                             "Policy for newly hot-added memory (auto_online_blocks). Always 1.",
                             kGauge,
                             {"policy"}};

class MemoryBlocksCollector final : public Collector {
 public:
  explicit MemoryBlocksCollector(procfs::Root root) : root_(std::move(root)) {}

  void Collect(MetricSink& out) override {
    auto nodes = procfs::ListNodes(root_);
    if (!nodes) return out.Fail(nodes.error());
    auto blocks = procfs::ReadMemoryBlocks(root_, *nodes);
    if (!blocks) return out.Fail(blocks.error());
    out.Add(kBlockSize, {}, static_cast<double>(blocks->block_size_bytes));
    if (blocks->auto_online) out.Add(kAutoOnline, {*blocks->auto_online}, 1);
    for (const auto& [node, counts] : blocks->nodes) {
      std::string n = std::to_string(node);
      out.Add(kBlocks, {n, "online"}, static_cast<double>(counts.online));
      out.Add(kBlocks, {n, "offline"}, static_cast<double>(counts.offline));
    }
  }

  std::vector<const FamilyDesc*> Families() const override { return {&kBlockSize, &kBlocks, &kAutoOnline}; }

 private:
  procfs::Root root_;
};

}  // namespace

std::unique_ptr<Collector> MakeMemoryBlocksCollector(const procfs::Root& root) {
  return std::make_unique<MemoryBlocksCollector>(root);
}

}  // namespace kvmem::collectors
