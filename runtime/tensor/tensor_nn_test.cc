#include <algorithm>
#include <cmath>
#include <limits>

#include "runtime/tensor/tensor.h"
#include "runtime/tensor/tensor_test_util.h"

namespace uop {
namespace {

Tensor FromFloats(const std::vector<float>& v, const Shape& s) { return Tensor::FromVector(v, s); }

// ----------------------------------------------------------------- matmul

TEST(TensorNN, MatmulMatchesLoops) {
  const int M = 3, K = 4, N = 5;
  std::vector<float> a = RandomFloats(M * K, 1), b = RandomFloats(K * N, 2);
  std::vector<double> expected(M * N, 0);
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j)
      for (int k = 0; k < K; ++k) expected[i * N + j] += double{a[i * K + k]} * b[k * N + j];
  Tensor c = FromFloats(a, {M, K}).Matmul(FromFloats(b, {K, N}));
  EXPECT_EQ(c.shape(), (Shape{M, N}));
  EXPECT_TRUE(AllClose(Values(c), expected, 1e-5, 1e-5));
  bool has_reduce = false;
  for (const UOp* u : c.uop()->Toposort()) has_reduce |= u->op() == Op::kReduceAxis;
  EXPECT_TRUE(has_reduce);
}

TEST(TensorNN, MatmulBatchesAndBroadcasts) {
  const int B = 2, C = 3, M = 2, K = 3, N = 4;
  std::vector<float> a = RandomFloats(B * M * K, 3), b = RandomFloats(C * K * N, 4);
  Tensor r = FromFloats(a, {B, 1, M, K}).Matmul(FromFloats(b, {C, K, N}));
  ASSERT_EQ(r.shape(), (Shape{B, C, M, N}));
  std::vector<double> expected;
  for (int bi = 0; bi < B; ++bi)
    for (int ci = 0; ci < C; ++ci)
      for (int i = 0; i < M; ++i)
        for (int j = 0; j < N; ++j) {
          double s = 0;
          for (int k = 0; k < K; ++k)
            s += double{a[(bi * M + i) * K + k]} * b[(ci * K + k) * N + j];
          expected.push_back(s);
        }
  EXPECT_TRUE(AllClose(Values(r), expected, 1e-5, 1e-5));
}

TEST(TensorNN, MatmulVectors) {
  Tensor v = Tensor::FromVector<float>({1, 2, 3});
  Tensor m = Tensor::FromVector<float>({1, 2, 3, 4, 5, 6}, Shape{3, 2});
  EXPECT_EQ(v.Matmul(v).shape(), Shape{});
  EXPECT_EQ(Values(v.Matmul(v)), (std::vector<double>{14}));
  EXPECT_EQ(Values(v.Matmul(m)), (std::vector<double>{22, 28}));
  EXPECT_EQ(Values(m.T().Matmul(v)), (std::vector<double>{22, 28}));
  Tensor i8 = Tensor::FromVector<int8_t>({100, 100}, Shape{1, 2});
  Tensor w = Tensor::FromVector<int8_t>({1, 1}, Shape{2, 1});
  EXPECT_EQ(i8.Matmul(w).dtype(), DType::Int8());
  EXPECT_EQ(Values(i8.Matmul(w, DType::Int32())), (std::vector<double>{200}));
  EXPECT_EQ(ErrorOf(m.Matmul(m)), "Matmul: cannot multiply (3, 2) by (3, 2): 2 != 3");
  EXPECT_FALSE(Tensor::Zeros({}).Matmul(v).ok());
  EXPECT_EQ(ErrorOf(Tensor::Zeros({2, 2, 3}).Matmul(Tensor::Zeros({3, 3, 1}))),
            "Matmul: cannot broadcast the batch axes of (2, 2, 3) and (3, 3, 1)");
}

TEST(TensorNN, Linear) {
  Tensor x = Tensor::FromVector<float>({1, 2}, Shape{1, 2});
  Tensor w = Tensor::FromVector<float>({1, 0, 0, 1, 1, 1}, Shape{3, 2});
  Tensor b = Tensor::FromVector<float>({10, 20, 30});
  EXPECT_EQ(Values(x.Linear(w, b)), (std::vector<double>{11, 22, 33}));
  EXPECT_EQ(Values(x.Linear(w)), (std::vector<double>{1, 2, 3}));
  EXPECT_FALSE(x.Linear(Tensor::Zeros({2})).ok());
}

// ------------------------------------------------------------ convolution

struct ConvCase {
  int bs, cin, cout, groups, h, w, kh, kw, sy, sx, dy, dx, pt, pb, pl, pr;
};

// Direct nested-loop 2-d convolution (cross-correlation), zero padding.
std::vector<double> DirectConv(const ConvCase& c, const std::vector<float>& x,
                               const std::vector<float>& w, const std::vector<float>& bias,
                               int* oh_out, int* ow_out) {
  const int oh = (c.h + c.pt + c.pb - c.dy * (c.kh - 1) - 1) / c.sy + 1;
  const int ow = (c.w + c.pl + c.pr - c.dx * (c.kw - 1) - 1) / c.sx + 1;
  const int cin_g = c.cin / c.groups, cout_g = c.cout / c.groups;
  std::vector<double> out;
  for (int b = 0; b < c.bs; ++b)
    for (int co = 0; co < c.cout; ++co)
      for (int oy = 0; oy < oh; ++oy)
        for (int ox = 0; ox < ow; ++ox) {
          double s = bias.empty() ? 0 : bias[co];
          const int g = co / cout_g;
          for (int ci = 0; ci < cin_g; ++ci)
            for (int ky = 0; ky < c.kh; ++ky)
              for (int kx = 0; kx < c.kw; ++kx) {
                const int iy = oy * c.sy + ky * c.dy - c.pt, ix = ox * c.sx + kx * c.dx - c.pl;
                if (iy < 0 || iy >= c.h || ix < 0 || ix >= c.w) continue;
                s += double{x[((b * c.cin + g * cin_g + ci) * c.h + iy) * c.w + ix]} *
                     w[((co * cin_g + ci) * c.kh + ky) * c.kw + kx];
              }
          out.push_back(s);
        }
  *oh_out = oh;
  *ow_out = ow;
  return out;
}

TEST(TensorNN, Conv2dMatchesDirectLoops) {
  const ConvCase cases[] = {
      {1, 1, 1, 1, 5, 5, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0},
      {2, 3, 4, 1, 6, 5, 3, 2, 1, 1, 1, 1, 1, 1, 0, 1},
      {1, 4, 6, 2, 7, 7, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},
      {2, 6, 6, 3, 8, 6, 2, 3, 1, 2, 2, 1, 0, 2, 1, 0},
      {1, 4, 4, 4, 9, 9, 3, 3, 3, 2, 2, 3, 2, 1, 3, 0},  // depthwise, asymmetric padding
      {1, 2, 3, 1, 4, 9, 1, 4, 1, 3, 1, 2, 0, 0, 2, 2},
  };
  uint32_t seed = 10;
  for (const ConvCase& c : cases) {
    std::vector<float> x = RandomFloats(c.bs * c.cin * c.h * c.w, seed++);
    std::vector<float> w = RandomFloats(c.cout * (c.cin / c.groups) * c.kh * c.kw, seed++);
    std::vector<float> bias = RandomFloats(c.cout, seed++);
    int oh, ow;
    std::vector<double> expected = DirectConv(c, x, w, bias, &oh, &ow);
    ConvOptions opts;
    opts.groups = c.groups;
    opts.stride = {c.sy, c.sx};
    opts.dilation = {c.dy, c.dx};
    opts.padding = {{c.pt, c.pb}, {c.pl, c.pr}};
    Tensor out = FromFloats(x, {c.bs, c.cin, c.h, c.w})
                     .Conv2d(FromFloats(w, {c.cout, c.cin / c.groups, c.kh, c.kw}),
                             FromFloats(bias, {c.cout}), opts);
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(out.shape(), (Shape{c.bs, c.cout, oh, ow}));
    EXPECT_TRUE(AllClose(Values(out), expected, 1e-5, 1e-5)) << "case seed " << seed;
  }
}

TEST(TensorNN, Conv1dAnd3d) {
  // 1-d: (1, 1, 5) with kernel (1, 1, 2): pairwise weighted sums.
  Tensor x = Tensor::FromVector<float>({1, 2, 3, 4, 5}, Shape{1, 1, 5});
  Tensor w = Tensor::FromVector<float>({1, 10}, Shape{1, 1, 2});
  EXPECT_EQ(Values(x.Conv(w)), (std::vector<double>{21, 32, 43, 54}));
  // 3-d ones kernel over ones: every output counts the window.
  Tensor ones3 = Tensor::Ones({1, 1, 3, 3, 3});
  Tensor k3 = Tensor::Ones({1, 1, 2, 2, 2});
  EXPECT_EQ(Values(ones3.Conv(k3)), std::vector<double>(8, 8));
}

TEST(TensorNN, ConvErrors) {
  Tensor x = Tensor::Zeros({1, 3, 5, 5});
  EXPECT_EQ(
      ErrorOf(x.Conv2d(Tensor::Zeros({4, 2, 3, 3}))),
      "Conv: input (1, 3, 5, 5) has 3 channels, weight (4, 2, 3, 3) expects 2 x 1 groups = 2");
  ConvOptions g2;
  g2.groups = 3;
  EXPECT_EQ(ErrorOf(x.Conv2d(Tensor::Zeros({4, 1, 3, 3}), std::nullopt, g2)),
            "Conv: output channels 4 are not divisible by groups 3");
  EXPECT_EQ(ErrorOf(x.Conv2d(Tensor::Zeros({4, 3, 3, 3}), Tensor::Zeros({3}))),
            "Conv: bias (3,) must be (4,)");
  EXPECT_NE(ErrorOf(x.Conv2d(Tensor::Zeros({4, 3, 7, 3}))).find("does not fit"), std::string::npos);
  ConvOptions bad_stride;
  bad_stride.stride = {1, 2, 3};
  EXPECT_EQ(ErrorOf(x.Conv2d(Tensor::Zeros({4, 3, 3, 3}), std::nullopt, bad_stride)),
            "Conv: stride has 3 values for 2 spatial axes");
  EXPECT_FALSE(Tensor::Zeros({3, 5}).Conv(Tensor::Zeros({3, 5})).ok());
}

// Direct transposed convolution: every input element scatters its weighted
// kernel into the output (torch's conv_transpose2d).
std::vector<double> DirectConvTranspose(const ConvCase& c, int oph, int opw,
                                        const std::vector<float>& x, const std::vector<float>& w,
                                        int* oh_out, int* ow_out) {
  const int oh = (c.h - 1) * c.sy - c.pt - c.pb + c.dy * (c.kh - 1) + oph + 1;
  const int ow = (c.w - 1) * c.sx - c.pl - c.pr + c.dx * (c.kw - 1) + opw + 1;
  const int cin_g = c.cin / c.groups, cout_g = c.cout / c.groups;
  std::vector<double> out(c.bs * c.cout * oh * ow, 0);
  for (int b = 0; b < c.bs; ++b)
    for (int ci = 0; ci < c.cin; ++ci)
      for (int iy = 0; iy < c.h; ++iy)
        for (int ix = 0; ix < c.w; ++ix) {
          const int g = ci / cin_g;
          for (int co = 0; co < cout_g; ++co)
            for (int ky = 0; ky < c.kh; ++ky)
              for (int kx = 0; kx < c.kw; ++kx) {
                const int y = iy * c.sy - c.pt + ky * c.dy, xx = ix * c.sx - c.pl + kx * c.dx;
                if (y < 0 || y >= oh || xx < 0 || xx >= ow) continue;
                out[((b * c.cout + g * cout_g + co) * oh + y) * ow + xx] +=
                    double{x[((b * c.cin + ci) * c.h + iy) * c.w + ix]} *
                    w[((ci * cout_g + co) * c.kh + ky) * c.kw + kx];
              }
        }
  *oh_out = oh;
  *ow_out = ow;
  return out;
}

TEST(TensorNN, ConvTranspose2dMatchesDirectLoops) {
  struct Case {
    ConvCase c;
    int oph, opw;
  };
  const Case cases[] = {
      {{1, 1, 1, 1, 3, 3, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0}, 0, 0},
      {{2, 2, 3, 1, 3, 4, 3, 2, 2, 2, 1, 1, 1, 1, 0, 0}, 1, 0},
      {{1, 4, 6, 2, 4, 3, 2, 3, 3, 1, 1, 2, 0, 1, 2, 1}, 2, 1},
      {{1, 3, 3, 3, 5, 5, 3, 3, 2, 3, 2, 1, 2, 2, 1, 1}, 1, 2},
  };
  uint32_t seed = 100;
  for (const Case& tc : cases) {
    const ConvCase& c = tc.c;
    std::vector<float> x = RandomFloats(c.bs * c.cin * c.h * c.w, seed++);
    std::vector<float> w = RandomFloats(c.cin * (c.cout / c.groups) * c.kh * c.kw, seed++);
    int oh, ow;
    std::vector<double> expected = DirectConvTranspose(c, tc.oph, tc.opw, x, w, &oh, &ow);
    ConvOptions opts;
    opts.groups = c.groups;
    opts.stride = {c.sy, c.sx};
    opts.dilation = {c.dy, c.dx};
    opts.padding = {{c.pt, c.pb}, {c.pl, c.pr}};
    opts.output_padding = {tc.oph, tc.opw};
    Tensor out = FromFloats(x, {c.bs, c.cin, c.h, c.w})
                     .ConvTranspose2d(FromFloats(w, {c.cin, c.cout / c.groups, c.kh, c.kw}),
                                      std::nullopt, opts);
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(out.shape(), (Shape{c.bs, c.cout, oh, ow}));
    EXPECT_TRUE(AllClose(Values(out), expected, 1e-5, 1e-5)) << "case seed " << seed;
  }
  ConvOptions bad;
  bad.stride = {2};
  bad.output_padding = {2};
  EXPECT_EQ(ErrorOf(Tensor::Zeros({1, 1, 3, 3})
                        .ConvTranspose2d(Tensor::Zeros({1, 1, 2, 2}), std::nullopt, bad)),
            "ConvTranspose: output_padding 2 must be smaller than stride or dilation");
}

// ----------------------------------------------------------------- pooling

struct PoolCase {
  int h, w, kh, kw, sy, sx, dy, dx, pt, pb, pl, pr;
  bool ceil;
};

int PoolOut(int in, int pb, int pa, int k, int s, int d, bool ceil) {
  const int span = in + pb + pa - d * (k - 1) - 1;
  int o = (ceil ? (span + s - 1) / s : span / s) + 1;
  if (ceil && (o - 1) * s >= in + pb) --o;  // the last window must start inside
  return o;
}

TEST(TensorNN, MaxPoolMatchesLoops) {
  const PoolCase cases[] = {
      {4, 4, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, false}, {5, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, false},
      {5, 6, 2, 3, 2, 2, 1, 1, 0, 0, 0, 0, true},  {7, 7, 3, 2, 2, 3, 2, 1, 1, 0, 1, 1, true},
      {6, 5, 3, 3, 1, 1, 2, 2, 2, 2, 0, 1, false},
  };
  uint32_t seed = 200;
  for (const PoolCase& c : cases) {
    std::vector<float> x = RandomFloats(2 * c.h * c.w, seed++);
    const int oh = PoolOut(c.h, c.pt, c.pb, c.kh, c.sy, c.dy, c.ceil);
    const int ow = PoolOut(c.w, c.pl, c.pr, c.kw, c.sx, c.dx, c.ceil);
    std::vector<double> expected;
    for (int ch = 0; ch < 2; ++ch)
      for (int oy = 0; oy < oh; ++oy)
        for (int ox = 0; ox < ow; ++ox) {
          double m = -std::numeric_limits<double>::infinity();
          for (int ky = 0; ky < c.kh; ++ky)
            for (int kx = 0; kx < c.kw; ++kx) {
              int iy = oy * c.sy + ky * c.dy - c.pt, ix = ox * c.sx + kx * c.dx - c.pl;
              if (iy >= 0 && iy < c.h && ix >= 0 && ix < c.w)
                m = std::max(m, double{x[(ch * c.h + iy) * c.w + ix]});
            }
          expected.push_back(m);
        }
    PoolOptions opts{
        {c.kh, c.kw}, {c.sy, c.sx}, {c.dy, c.dx}, {{c.pt, c.pb}, {c.pl, c.pr}}, c.ceil};
    Tensor out = FromFloats(x, {1, 2, c.h, c.w}).MaxPool2d(opts);
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(out.shape(), (Shape{1, 2, oh, ow})) << "seed " << seed;
    EXPECT_TRUE(AllClose(Values(out), expected, 0, 0)) << "seed " << seed;
  }
}

TEST(TensorNN, AvgPoolMatchesTorchDivisors) {
  const PoolCase cases[] = {
      {4, 4, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, false}, {5, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, false},
      {5, 6, 2, 3, 2, 2, 1, 1, 0, 0, 0, 0, true},  {6, 7, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, true},
      {5, 5, 3, 2, 3, 2, 1, 1, 1, 1, 0, 1, true},
  };
  uint32_t seed = 300;
  for (const PoolCase& c : cases) {
    for (bool include_pad : {true, false}) {
      std::vector<float> x = RandomFloats(c.h * c.w, seed++);
      const int oh = PoolOut(c.h, c.pt, c.pb, c.kh, c.sy, 1, c.ceil);
      const int ow = PoolOut(c.w, c.pl, c.pr, c.kw, c.sx, 1, c.ceil);
      std::vector<double> expected;
      for (int oy = 0; oy < oh; ++oy)
        for (int ox = 0; ox < ow; ++ox) {
          // torch's avg_pool2d: the window clipped to the padded input counts
          // padding; clipped to the input it does not.
          int y0 = oy * c.sy - c.pt, x0 = ox * c.sx - c.pl;
          int y1 = std::min(y0 + c.kh, c.h + c.pb), x1 = std::min(x0 + c.kw, c.w + c.pr);
          const int padded_count = (y1 - y0) * (x1 - x0);
          y0 = std::max(y0, 0), x0 = std::max(x0, 0);
          y1 = std::min(y1, c.h), x1 = std::min(x1, c.w);
          double s = 0;
          for (int iy = y0; iy < y1; ++iy)
            for (int ix = x0; ix < x1; ++ix) s += x[iy * c.w + ix];
          expected.push_back(s / (include_pad ? padded_count : (y1 - y0) * (x1 - x0)));
        }
      PoolOptions opts{{c.kh, c.kw}, {c.sy, c.sx}, {}, {{c.pt, c.pb}, {c.pl, c.pr}},
                       c.ceil,       include_pad};
      Tensor out = FromFloats(x, {1, 1, c.h, c.w}).AvgPool2d(opts);
      ASSERT_TRUE(out.ok()) << out.status();
      EXPECT_EQ(out.shape(), (Shape{1, 1, oh, ow})) << "seed " << seed;
      EXPECT_TRUE(AllClose(Values(out), expected, 1e-6, 1e-6))
          << "seed " << seed << " include_pad " << include_pad;
    }
  }
}

TEST(TensorNN, PoolDefaultsAndErrors) {
  Tensor x = Tensor::Arange(16).Reshape({1, 1, 4, 4}).Cast(DType::Float32());
  EXPECT_EQ(Values(x.MaxPool2d({{2, 2}})), (std::vector<double>{5, 7, 13, 15}));
  EXPECT_EQ(Values(x.AvgPool2d({{2, 2}})), (std::vector<double>{2.5, 4.5, 10.5, 12.5}));
  Tensor i = Tensor::FromVector<int32_t>({-5, -7, -1, -2}, Shape{1, 1, 4});
  EXPECT_EQ(Values(i.MaxPool({{2}, {1}, {}, {{1, 1}}})), (std::vector<double>{-5, -5, -1, -1, -2}));
  EXPECT_EQ(ErrorOf(x.MaxPool2d({})), "MaxPool: empty kernel");
  EXPECT_NE(ErrorOf(x.MaxPool2d({{5, 5}})).find("does not fit"), std::string::npos);
  EXPECT_EQ(ErrorOf(Tensor::Zeros({4}).MaxPool2d({{2, 2}})),
            "MaxPool: input (4,) has fewer axes than the 2-d kernel");
}

}  // namespace
}  // namespace uop
