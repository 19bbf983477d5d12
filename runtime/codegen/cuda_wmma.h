// Tensor-core matrix multiply-accumulate for the CUDA renderer: the WMMA
// op's argument and its rendering as one PTX mma.sync.
//
// WMMA(a, b, c) with arg WmmaArg computes D = A * B + C for one warp-wide
// tile (m16n8k16: A 16x16, B 16x8, C and D 16x8). Each of the warp's 32
// lanes holds a fixed part of every matrix (the fragment layout of the PTX
// ISA, "mma.m16n8k16"), with lane = 4 * g + t (g = lane / 4, t = lane % 4):
//   A (8 elements): a[i] = A[g + 8 * ((i / 2) % 2)][2 * t + i % 2 + 8 * (i / 4)]
//   B (4 elements): b[i] = B[2 * t + i % 2 + 8 * (i / 2)][g]
//   C, D (4 each):  c[i] = C[g + 8 * (i / 2)][2 * t + i % 2]
// A and B are float16 or bfloat16, C and D float32.
//
//   auto arg = std::make_shared<WmmaArg>(WmmaArg::M16N8K16(DType::Float16()));
//   UOpPtr d = UOp::Create(Op::kWmma, DType::Float32().Vec(4), {a8, b4, c4}, Arg(arg));
#ifndef UOP_RUNTIME_CODEGEN_CUDA_WMMA_H_
#define UOP_RUNTIME_CODEGEN_CUDA_WMMA_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/dtype/dtype.h"
#include "runtime/uop/arg.h"

namespace uop {

class WmmaArg final : public ArgObject {
 public:
  static WmmaArg M16N8K16(DType in) { return WmmaArg(16, 8, 16, in); }
  WmmaArg(int m, int n, int k, DType in) : m_(m), n_(n), k_(k), in_(in) {}

  int m() const { return m_; }
  int n() const { return n_; }
  int k() const { return k_; }
  DType in() const { return in_; }
  // Elements each lane holds of A, B and C/D.
  int a_elems() const { return m_ * k_ / 32; }
  int b_elems() const { return k_ * n_ / 32; }
  int c_elems() const { return m_ * n_ / 32; }

  size_t Hash() const override;
  bool Equals(const ArgObject& other) const override;
  std::string ToString() const override;

 private:
  int m_, n_, k_;
  DType in_;
};

// CUSTOM op with this arg: a warp-wide ldmatrix (PTX "ldmatrix.sync.aligned
// .m8n8.x<count>[.trans].shared.b16"): `count` 8x8 matrices of 16-bit
// elements from shared memory, each lane giving one row address (lane / 8
// picks the matrix, lane % 8 the row). Lane L receives, of every matrix q,
// the two elements at row L / 4, columns 2 * (L % 4) and +1 (transposed:
// rows 2 * (L % 4) and +1 of column L / 4) as lanes 2q and 2q + 1 of the
// result: exactly the mma.sync fragments above.
//
//   CUSTOM(INDEX(smem, row_address), deps...) dtype float16.vec(2 * count)
class LdMatrixArg final : public ArgObject {
 public:
  LdMatrixArg(int count, bool trans) : count_(count), trans_(trans) {}
  int count() const { return count_; }
  bool trans() const { return trans_; }
  size_t Hash() const override;
  bool Equals(const ArgObject& other) const override;
  std::string ToString() const override;

 private:
  int count_;
  bool trans_;
};

// The statements loading `regs` (count 32-bit registers, declared by the
// caller) from the shared-memory element at `address` (a pointer expression).
std::vector<std::string> RenderLdMatrix(const LdMatrixArg& arg, const std::string& address,
                                        const std::vector<std::string>& regs);

// CUSTOM ops with this arg: Ampere+ asynchronous global -> shared copies.
//   kCopy16: CUSTOM(INDEX(shared dst), INDEX(global src), deps...) copies 16
//            bytes without going through registers (cp.async.cg);
//   kCommit: CUSTOM(deps...) closes the group of copies issued so far;
//   kWait:   CUSTOM(deps...) waits until at most `pending` groups are in flight.
// Copies are visible to other threads after kWait and a BARRIER.
class AsyncCopyArg final : public ArgObject {
 public:
  enum Kind { kCopy16, kCommit, kWait };
  explicit AsyncCopyArg(Kind kind, int pending = 0) : kind_(kind), pending_(pending) {}
  Kind kind() const { return kind_; }
  int pending() const { return pending_; }
  size_t Hash() const override;
  bool Equals(const ArgObject& other) const override;
  std::string ToString() const override;

 private:
  Kind kind_;
  int pending_;
};

// The statement for an AsyncCopyArg op (addresses are pointer expressions;
// empty for commit and wait).
std::string RenderAsyncCopy(const AsyncCopyArg& arg, const std::string& dst,
                            const std::string& src);

// The statements computing `out`_0..3 (declared by the caller as floats)
// from A and B lanes given as 16-bit patterns (unsigned short expressions)
// and C lanes as float expressions. InvalidArgument for a shape or type
// mma.sync does not have.
absl::StatusOr<std::vector<std::string>> RenderMmaSync(const WmmaArg& arg,
                                                       const std::vector<std::string>& a_bits,
                                                       const std::vector<std::string>& b_bits,
                                                       const std::vector<std::string>& c,
                                                       const std::string& out);

}  // namespace uop

#endif  // UOP_RUNTIME_CODEGEN_CUDA_WMMA_H_
