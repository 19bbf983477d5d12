// SHA-256 (FIPS 180-4), for content-addressed cache keys and checksums.
//
// Stable across processes, builds and machines, unlike absl::Hash.
//
//   Sha256 h;
//   h.Update("abc");
//   std::array<uint8_t, 32> d = h.Finish();
//   Sha256::Hex(d) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#ifndef UOP_DRIVERS_SHA256_H_
#define UOP_DRIVERS_SHA256_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace uop {

class Sha256 {
 public:
  using Digest = std::array<uint8_t, 32>;

  Sha256();
  void Update(const void* data, size_t size);
  void Update(absl::string_view s) { Update(s.data(), s.size()); }
  // Finishes the hash; the object must not be used afterwards.
  Digest Finish();

  static Digest Of(absl::string_view s);
  static std::string Hex(const Digest& d);

 private:
  void Block(const uint8_t* p);

  uint32_t state_[8];
  uint8_t buffer_[64];
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
};

}  // namespace uop

#endif  // UOP_DRIVERS_SHA256_H_
