// Scraper: collectors on two threads, output in collector order, RunsLast after the others,
// failures isolated on either thread.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "exporter/exposition/scrape.h"

namespace kvmem {
namespace {

const FamilyDesc kOrder{
    "kvmem_test_order", "Index of the collector that wrote it.", prometheus::MetricType::Gauge, {"collector"}};

// What the test collectors share: a rendezvous that needs `parties` threads inside Collect at
// once (so it proves two threads ran collectors), the threads seen, and how many finished.
struct Shared {
  explicit Shared(int n) : parties(n) {}
  int parties;
  std::mutex mutex;
  std::condition_variable cv;
  int arrived = 0;
  bool met = false;
  std::set<std::thread::id> threads;
  std::atomic<int> finished{0};

  // Waits until `parties` collectors are inside at once; false after 10 s without them.
  bool Meet() {
    std::unique_lock lock(mutex);
    threads.insert(std::this_thread::get_id());
    if (++arrived >= parties) met = true;
    cv.notify_all();
    return cv.wait_for(lock, std::chrono::seconds(10), [&] { return met; });
  }
};

class TestCollector final : public Collector {
 public:
  TestCollector(int index, std::shared_ptr<Shared> shared, bool meet, bool last = false, bool throws = false)
      : index_(index), shared_(std::move(shared)), meet_(meet), last_(last), throws_(throws) {}

  void Collect(MetricSink& out) override {
    if (meet_ && !shared_->Meet()) out.Fail({ErrorKind::kIo, "no second thread came", {}, 0});
    {
      std::lock_guard lock(shared_->mutex);
      shared_->threads.insert(std::this_thread::get_id());
    }
    if (throws_) throw std::runtime_error("boom");
    // A RunsLast collector reports how many others had finished when it started.
    out.Add(kOrder, {std::to_string(index_)}, last_ ? shared_->finished.load() : index_);
    if (!last_) ++shared_->finished;
  }
  std::vector<const FamilyDesc*> Families() const override { return {&kOrder}; }
  bool RunsLast() const override { return last_; }

 private:
  int index_;
  std::shared_ptr<Shared> shared_;
  bool meet_, last_, throws_;
};

std::string Text(Scraper& s) {
  std::string text = s.ScrapeText();
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    std::string line = text.substr(pos, end - pos);
    if (line.rfind("kvmem_test_order{", 0) == 0 || line.rfind("kvmem_scrape_collector_success{", 0) == 0) {
      out += line + "\n";
    }
    pos = end == std::string::npos ? text.size() : end + 1;
  }
  return out;
}

TEST(Scraper, TwoThreadsRunCollectorsAtOnceAndTheOutputKeepsCollectorOrder) {
  auto shared = std::make_shared<Shared>(2);
  std::vector<NamedCollector> list;
  list.push_back({"a", std::make_unique<TestCollector>(0, shared, true)});
  list.push_back({"b", std::make_unique<TestCollector>(1, shared, true)});
  list.push_back({"c", std::make_unique<TestCollector>(2, shared, false)});
  list.push_back({"d", std::make_unique<TestCollector>(3, shared, false, /*last=*/true)});
  Scraper scraper(std::move(list), "kvmem_exporter", "test", 2);
  EXPECT_EQ(Text(scraper),
            "kvmem_test_order{collector=\"0\"} 0\n"
            "kvmem_test_order{collector=\"1\"} 1\n"
            "kvmem_test_order{collector=\"2\"} 2\n"
            "kvmem_test_order{collector=\"3\"} 3\n"  // d ran after the three others finished
            "kvmem_scrape_collector_success{collector=\"a\"} 1\n"
            "kvmem_scrape_collector_success{collector=\"b\"} 1\n"
            "kvmem_scrape_collector_success{collector=\"c\"} 1\n"
            "kvmem_scrape_collector_success{collector=\"d\"} 1\n");
  EXPECT_EQ(shared->threads.size(), 2u);
}

TEST(Scraper, OneThreadRunsEverythingOnTheCallersThread) {
  auto shared = std::make_shared<Shared>(1);
  std::vector<NamedCollector> list;
  for (int i = 0; i < 3; ++i)
    list.push_back({"c" + std::to_string(i), std::make_unique<TestCollector>(i, shared, false)});
  Scraper scraper(std::move(list), "kvmem_exporter", "test", 1);
  for (int scrape = 0; scrape < 3; ++scrape) scraper.ScrapeText();
  ASSERT_EQ(shared->threads.size(), 1u);
  EXPECT_EQ(*shared->threads.begin(), std::this_thread::get_id());
  EXPECT_EQ(shared->finished.load(), 9);
}

TEST(Scraper, AThrowingCollectorOnEitherThreadFailsAloneScrapeAfterScrape) {
  auto shared = std::make_shared<Shared>(1);
  std::vector<NamedCollector> list;
  list.push_back({"ok1", std::make_unique<TestCollector>(0, shared, false)});
  list.push_back({"bad", std::make_unique<TestCollector>(1, shared, false, false, /*throws=*/true)});
  list.push_back({"ok2", std::make_unique<TestCollector>(2, shared, false)});
  Scraper scraper(std::move(list), "kvmem_exporter", "test", 2);
  for (int scrape = 0; scrape < 20; ++scrape) {
    EXPECT_EQ(Text(scraper),
              "kvmem_test_order{collector=\"0\"} 0\n"
              "kvmem_test_order{collector=\"2\"} 2\n"
              "kvmem_scrape_collector_success{collector=\"ok1\"} 1\n"
              "kvmem_scrape_collector_success{collector=\"bad\"} 0\n"
              "kvmem_scrape_collector_success{collector=\"ok2\"} 1\n")
        << "scrape " << scrape;
  }
}

}  // namespace
}  // namespace kvmem
