// Decode attention straight from the paged KV pool, for the CPU (inference/cpu_decode_kernel.py).
//
// One query token per sequence: for sequence i, every query head's scores over its context are read
// from the pool through its block table (slot = table[t / block_size] * block_size + t % block_size),
// with all KV heads of a slot read together (they are adjacent in the [slot, Hkv, D] pool), the
// query heads of a group sharing their KV head (GQA), softmax and the weighted sum of V in float32.
// Nothing is gathered or padded: the bucketed SDPA path copies each bucket's K/V out of the pool
// first and builds its padded slot lists every step.
#include <torch/extension.h>
#include <ATen/Parallel.h>
#include <cmath>
#include <vector>

template <typename T>
static inline void to_float(const T* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<float>(src[i]);
}

template <typename T>
static void run(const torch::Tensor& q, const torch::Tensor& kc, const torch::Tensor& vc,
                const torch::Tensor& tables, const torch::Tensor& lengths, int64_t bs, double scale,
                torch::Tensor& out) {
  const int64_t n = q.size(0), H = q.size(1), D = q.size(2), Hkv = kc.size(1), G = H / Hkv;
  const int64_t width = tables.size(1);
  const T* qp = q.data_ptr<T>();
  const T* kp = kc.data_ptr<T>();
  const T* vp = vc.data_ptr<T>();
  const int64_t* tp = tables.data_ptr<int64_t>();
  const int64_t* lp = lengths.data_ptr<int64_t>();
  T* op = out.data_ptr<T>();
  at::parallel_for(0, n, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> qf(H * D), row(Hkv * D), acc(H * D), scores, mx(H), sum(H);
    for (int64_t i = begin; i < end; ++i) {
      const int64_t len = lp[i];
      scores.assign(H * len, 0.f);
      to_float(qp + i * H * D, qf.data(), H * D);
      const int64_t* table = tp + i * width;
      const float sc = static_cast<float>(scale);
      for (int64_t t = 0; t < len; ++t) {
        const int64_t slot = table[t / bs] * bs + t % bs;
        to_float(kp + slot * Hkv * D, row.data(), Hkv * D);
        for (int64_t hq = 0; hq < H; ++hq) {
          const float* qg = qf.data() + hq * D;
          const float* kr = row.data() + (hq / G) * D;
          float s = 0.f;
          for (int64_t d = 0; d < D; ++d) s += qg[d] * kr[d];
          scores[hq * len + t] = s * sc;
        }
      }
      for (int64_t hq = 0; hq < H; ++hq) {
        float* sg = scores.data() + hq * len;
        float m = sg[0];  // len >= 1; no -inf: the build may assume finite math
        for (int64_t t = 1; t < len; ++t) m = sg[t] > m ? sg[t] : m;
        float total = 0.f;
        for (int64_t t = 0; t < len; ++t) { sg[t] = std::exp(sg[t] - m); total += sg[t]; }
        sum[hq] = total;
      }
      std::fill(acc.begin(), acc.end(), 0.f);
      for (int64_t t = 0; t < len; ++t) {
        const int64_t slot = table[t / bs] * bs + t % bs;
        to_float(vp + slot * Hkv * D, row.data(), Hkv * D);
        for (int64_t hq = 0; hq < H; ++hq) {
          const float p = scores[hq * len + t];
          const float* vr = row.data() + (hq / G) * D;
          float* ag = acc.data() + hq * D;
          for (int64_t d = 0; d < D; ++d) ag[d] += p * vr[d];
        }
      }
      T* o = op + i * H * D;
      for (int64_t hq = 0; hq < H; ++hq) {
        const float inv = 1.f / sum[hq];
        for (int64_t d = 0; d < D; ++d) o[hq * D + d] = static_cast<T>(acc[hq * D + d] * inv);
      }
    }
  });
}

torch::Tensor paged_decode(torch::Tensor q, torch::Tensor kc, torch::Tensor vc, torch::Tensor tables,
                           torch::Tensor lengths, int64_t block_size, double scale) {
  TORCH_CHECK(q.is_contiguous() && kc.is_contiguous() && vc.is_contiguous(), "contiguous tensors");
  TORCH_CHECK(q.dim() == 3 && kc.dim() == 3 && q.size(1) % kc.size(1) == 0, "q [n, H, D], kc [slots, Hkv, D]");
  TORCH_CHECK(kc.scalar_type() == q.scalar_type() && vc.scalar_type() == q.scalar_type(), "one dtype");
  TORCH_CHECK(tables.scalar_type() == torch::kLong && lengths.scalar_type() == torch::kLong, "int64 tables");
  auto out = torch::empty_like(q);
  if (q.scalar_type() == torch::kBFloat16) run<c10::BFloat16>(q, kc, vc, tables, lengths, block_size, scale, out);
  else if (q.scalar_type() == torch::kFloat) run<float>(q, kc, vc, tables, lengths, block_size, scale, out);
  else TORCH_CHECK(false, "float32 or bfloat16");
  return out;
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) { m.def("paged_decode", &paged_decode); }
