#include "runtime/schedule/item_order.h"

#include <algorithm>
#include <functional>
#include <queue>

namespace uop::schedule_internal {
namespace {

// Whether `to` is reachable from `from` among the items not yet placed.
bool Reaches(const std::vector<std::vector<int>>& succ, const std::vector<bool>& placed, int from,
             int to) {
  std::vector<bool> seen(succ.size(), false);
  std::vector<int> stack = {from};
  seen[from] = true;
  while (!stack.empty()) {
    int i = stack.back();
    stack.pop_back();
    if (i == to) return true;
    for (int s : succ[i]) {
      if (placed[s] || seen[s]) continue;
      seen[s] = true;
      stack.push_back(s);
    }
  }
  return false;
}

}  // namespace

ItemOrder OrderItems(int num_items, const std::vector<OrderEdge>& edges,
                     const std::vector<OrderEdge>& anti) {
  ItemOrder out;
  out.preds.resize(num_items);
  std::vector<std::vector<int>> succ(num_items);
  std::vector<int> indeg(num_items, 0);
  auto add = [&](const OrderEdge& e) {
    if (e.before < 0 || e.after < 0 || e.before == e.after) return;
    std::vector<int>& p = out.preds[e.after];
    if (std::find(p.begin(), p.end(), e.before) != p.end()) return;
    p.push_back(e.before);
    succ[e.before].push_back(e.after);
    ++indeg[e.after];
  };
  for (const OrderEdge& e : edges) add(e);
  for (const OrderEdge& e : anti) add(e);

  std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
  for (int i = 0; i < num_items; ++i)
    if (indeg[i] == 0) ready.push(i);
  std::vector<bool> placed(num_items, false);
  while (!ready.empty()) {
    int i = ready.top();
    ready.pop();
    placed[i] = true;
    out.order.push_back(i);
    for (int s : succ[i])
      if (--indeg[s] == 0) ready.push(s);
  }
  for (std::vector<int>& p : out.preds) std::sort(p.begin(), p.end());
  if (static_cast<int>(out.order.size()) == num_items) return out;
  out.has_cycle = true;
  for (size_t a = 0; a < anti.size(); ++a) {
    const OrderEdge& e = anti[a];
    if (e.before < 0 || e.after < 0 || e.before == e.after) continue;
    if (placed[e.before] || placed[e.after]) continue;
    if (Reaches(succ, placed, e.after, e.before)) out.cyclic_anti.push_back(static_cast<int>(a));
  }
  return out;
}

}  // namespace uop::schedule_internal
