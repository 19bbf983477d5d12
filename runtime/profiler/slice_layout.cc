#include "runtime/profiler/slice_layout.h"

#include <algorithm>

namespace uop::profiler {

namespace {

constexpr uint16_t kMaxLanes = 4096;

// Lays out the spans and instants of one track.
class TrackLayout {
 public:
  TrackLayout(const std::vector<Event>& events, std::vector<Marker>* out)
      : events_(events), out_(out) {}

  // Returns the number of lanes used.
  uint16_t Run(std::vector<uint32_t>& indices) {
    // Start ascending; among equal starts the longer (the parent) first;
    // among identical extents the later recorded, which ended last (outer).
    std::sort(indices.begin(), indices.end(), [&](uint32_t a, uint32_t b) {
      const Event &x = events_[a], &y = events_[b];
      if (x.ts != y.ts) return x.ts < y.ts;
      if (x.end() != y.end()) return x.end() > y.end();
      return a > b;
    });
    for (uint32_t i : indices) Place(i);
    for (size_t lane = 0; lane < stacks_.size(); ++lane) PopUntil(lane, INT64_MAX);
    return static_cast<uint16_t>(std::max<size_t>(stacks_.size(), 1));
  }

 private:
  void PopUntil(size_t lane, int64_t ts) {
    std::vector<uint32_t>& stack = stacks_[lane];
    while (!stack.empty() && events_[stack.back()].end() <= ts) {
      out_->push_back(
          {events_[stack.back()].end(), stack.back(), static_cast<uint16_t>(lane), Marker::kEnd});
      stack.pop_back();
    }
  }

  void Place(uint32_t i) {
    const Event& e = events_[i];
    size_t lane = 0;
    for (; lane < stacks_.size(); ++lane) {
      PopUntil(lane, e.ts);
      const std::vector<uint32_t>& stack = stacks_[lane];
      if (stack.empty() || e.end() <= events_[stack.back()].end()) break;
    }
    if (lane == stacks_.size()) {
      if (stacks_.size() < kMaxLanes) {
        stacks_.emplace_back();
      } else {
        lane = stacks_.size() - 1;  // pathological overlap: keep it, unnested
      }
    }
    const bool span = e.kind == EventKind::kSpan;
    out_->push_back(
        {e.ts, i, static_cast<uint16_t>(lane), span ? Marker::kBegin : Marker::kInstant});
    if (span) stacks_[lane].push_back(i);
  }

  const std::vector<Event>& events_;
  std::vector<Marker>* out_;
  std::vector<std::vector<uint32_t>> stacks_;
};

}  // namespace

SliceLayout LayoutSlices(const TraceSnapshot& snapshot) {
  SliceLayout layout;
  layout.lanes.assign(snapshot.tracks.size(), 0);
  std::vector<std::vector<uint32_t>> by_track(snapshot.tracks.size());
  layout.markers.reserve(snapshot.events.size() * 2);
  for (uint32_t i = 0; i < snapshot.events.size(); ++i) {
    const Event& e = snapshot.events[i];
    if (e.track == 0 || e.track >= snapshot.tracks.size()) continue;  // unknown track: dropped
    if (e.kind == EventKind::kCounter) {
      layout.markers.push_back({e.ts, i, 0, Marker::kCounter});
      layout.lanes[e.track] = 1;
    } else {
      by_track[e.track].push_back(i);
    }
  }
  for (size_t t = 0; t < by_track.size(); ++t) {
    if (by_track[t].empty()) continue;
    layout.lanes[t] = TrackLayout(snapshot.events, &layout.markers).Run(by_track[t]);
  }
  // Per track the markers were generated in a valid order; a stable sort by
  // time keeps that order among equal timestamps.
  std::stable_sort(layout.markers.begin(), layout.markers.end(),
                   [](const Marker& a, const Marker& b) { return a.ts < b.ts; });
  return layout;
}

}  // namespace uop::profiler
