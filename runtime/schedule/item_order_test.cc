#include "runtime/schedule/item_order.h"

#include <vector>

#include "gtest/gtest.h"

namespace uop::schedule_internal {
namespace {

TEST(ItemOrder, KeepsBuildOrderWhenFree) {
  ItemOrder o = OrderItems(4, {}, {});
  EXPECT_FALSE(o.has_cycle);
  EXPECT_EQ(o.order, (std::vector<int>{0, 1, 2, 3}));
}

TEST(ItemOrder, AntiEdgeMovesAReaderBeforeTheWriter) {
  // 1 writes what 2 reads (old contents): 2 runs first; 3 reads 1's result.
  ItemOrder o = OrderItems(4, {{0, 1}, {1, 3}}, {{2, 1}});
  EXPECT_FALSE(o.has_cycle);
  EXPECT_EQ(o.order, (std::vector<int>{0, 2, 1, 3}));
  EXPECT_EQ(o.preds[1], (std::vector<int>{0, 2}));
  EXPECT_EQ(o.preds[3], (std::vector<int>{1}));
}

TEST(ItemOrder, IgnoresSelfAndMissingEdgesAndDuplicates) {
  ItemOrder o = OrderItems(2, {{-1, 0}, {1, 1}, {0, 1}, {0, 1}}, {{1, 1}});
  EXPECT_FALSE(o.has_cycle);
  EXPECT_EQ(o.order, (std::vector<int>{0, 1}));
  EXPECT_EQ(o.preds[1], (std::vector<int>{0}));
}

TEST(ItemOrder, ReportsTheAntiEdgesOnACycle) {
  // 0 = ASSIGN, 1 reads 0's result and the old contents it overwrote.
  ItemOrder o = OrderItems(3, {{0, 1}}, {{2, 0}, {1, 0}});
  EXPECT_TRUE(o.has_cycle);
  EXPECT_EQ(o.cyclic_anti, (std::vector<int>{1}));  // not {2, 0}: 2 is independent
}

}  // namespace
}  // namespace uop::schedule_internal
