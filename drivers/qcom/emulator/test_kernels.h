// Hand-written OpenCL C kernels in the OpenCL renderer's ABI
// (runtime/codegen/opencl_renderer.h), for driver and emulator tests that do
// not go through codegen.
#ifndef UOP_DRIVERS_QCOM_EMULATOR_TEST_KERNELS_H_
#define UOP_DRIVERS_QCOM_EMULATOR_TEST_KERNELS_H_

namespace uop::qcom_test {

// data0[i] = data1[i] + data2[i], i = group * 4 + local (4 work-items a group).
inline constexpr char kAdd[] = R"(// uop kernel add
// uop-abi: globals=3 vars=0 local=4,1,1
__kernel __attribute__((reqd_work_group_size(4, 1, 1)))
void add(__global float* restrict data0, __global const float* restrict data1, __global const float* restrict data2) {
  int i = (int)get_group_id(0) * 4 + (int)get_local_id(0);
  data0[i] = data1[i] + data2[i];
}
)";

// data0[i] = data1[i] * var_k over a 2-D grid of (x, y) groups of 8 x 2.
inline constexpr char kScale[] = R"(// uop kernel scale
// uop-abi: globals=2 vars=1 local=8,2,1
__kernel __attribute__((reqd_work_group_size(8, 2, 1)))
void scale(__global float* restrict data0, __global const float* restrict data1, long var_k) {
  int x = (int)get_group_id(0) * 8 + (int)get_local_id(0);
  int y = (int)get_group_id(1) * 2 + (int)get_local_id(1);
  int i = y * 32 + x;
  data0[i] = data1[i] * (float)var_k;
}
)";

// data0[0] += 1 (one work-item): counts launches.
inline constexpr char kCount[] = R"(// uop kernel count
// uop-abi: globals=1 vars=0 local=1,1,1
__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void count(__global int* restrict data0) {
  data0[0] = data0[0] + 1;
}
)";

}  // namespace uop::qcom_test

#endif  // UOP_DRIVERS_QCOM_EMULATOR_TEST_KERNELS_H_
