#include "drivers/sha256.h"

#include <string>

#include "gtest/gtest.h"

namespace uop {
namespace {

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(Sha256::Hex(Sha256::Of("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256::Hex(Sha256::Of("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // Two blocks (56 bytes forces the length into a second block).
  EXPECT_EQ(Sha256::Hex(Sha256::Of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Sha256::Hex(Sha256::Of(std::string(1000000, 'a'))),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, IncrementalEqualsOneShot) {
  std::string data;
  for (int i = 0; i < 1000; ++i) data.push_back(static_cast<char>(i * 7));
  for (size_t split : {0, 1, 63, 64, 65, 127, 500, 999}) {
    Sha256 h;
    h.Update(data.substr(0, split));
    h.Update(data.substr(split));
    EXPECT_EQ(h.Finish(), Sha256::Of(data)) << "split at " << split;
  }
}

// Byte-by-byte updates hash every block through the portable rounds; one
// Update of the whole input takes the SHA-NI path where the CPU has it.
TEST(Sha256, BlockPathsAgree) {
  std::string data(100003, '\0');
  uint32_t x = 12345;
  for (char& c : data) c = static_cast<char>((x = x * 1103515245 + 12345) >> 16);
  Sha256 bytewise;
  for (char c : data) bytewise.Update(&c, 1);
  EXPECT_EQ(bytewise.Finish(), Sha256::Of(data));
}

}  // namespace
}  // namespace uop
