// y = x @ w^T for the few rows of a decode step, for the CPU (inference/cpu_small_gemm.py).
//
// At small-batch decode a linear layer multiplies a handful of rows by a weight that comes from
// memory every step, so the step is bound by how fast the weight streams in. torch's matmul reads
// it at a third to a half of one core's streaming bandwidth there. This kernel reads the weight
// once, row after row (one sequential stream per thread, which the hardware prefetcher follows; a
// first version that interleaved four rows reached half the speed), and computes each row against
// every input row, which stays in L1, with fp32 accumulation: bf16 pairs with AVX-512 BF16's
// dot-product instruction, fp32 with FMA (AVX-512 or AVX2). Built with -march=native, so only the
// paths this CPU has are compiled in; supported() names them and the caller keeps torch elsewhere.
#include <torch/extension.h>
#include <ATen/Parallel.h>
#include <immintrin.h>

namespace {

#if defined(__AVX512BF16__)
constexpr bool kBf16 = true;

// out[m] = x[m0 + m] . w_row for MR input rows; two accumulators per row halve the add chain.
template <int MR>
inline void bf16_row(const uint16_t* x, const uint16_t* w, float* out, int64_t K, int64_t ldx) {
  __m512 acc[MR][2];
  for (int m = 0; m < MR; ++m) acc[m][0] = acc[m][1] = _mm512_setzero_ps();
  int64_t k = 0, j = 0;
  for (; k < K; k += 32, j ^= 1) {
    const __mmask32 mask = K - k >= 32 ? ~__mmask32(0) : (__mmask32(1) << (K - k)) - 1;
    const __m512bh wv = (__m512bh)_mm512_maskz_loadu_epi16(mask, w + k);
    for (int m = 0; m < MR; ++m)
      acc[m][j] = _mm512_dpbf16_ps(acc[m][j], (__m512bh)_mm512_maskz_loadu_epi16(mask, x + m * ldx + k), wv);
  }
  for (int m = 0; m < MR; ++m) out[m] = _mm512_reduce_add_ps(_mm512_add_ps(acc[m][0], acc[m][1]));
}
#else
constexpr bool kBf16 = false;
#endif

#if defined(__AVX512F__)
constexpr bool kF32 = true;
template <int MR>
inline void f32_row(const float* x, const float* w, float* out, int64_t K, int64_t ldx) {
  __m512 acc[MR][2];
  for (int m = 0; m < MR; ++m) acc[m][0] = acc[m][1] = _mm512_setzero_ps();
  int64_t k = 0, j = 0;
  for (; k < K; k += 16, j ^= 1) {
    const __mmask16 mask = K - k >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (K - k)) - 1);
    const __m512 wv = _mm512_maskz_loadu_ps(mask, w + k);
    for (int m = 0; m < MR; ++m)
      acc[m][j] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, x + m * ldx + k), wv, acc[m][j]);
  }
  for (int m = 0; m < MR; ++m) out[m] = _mm512_reduce_add_ps(_mm512_add_ps(acc[m][0], acc[m][1]));
}
#elif defined(__AVX2__) && defined(__FMA__)
constexpr bool kF32 = true;
inline float hsum256(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(t, _mm_shuffle_ps(t, t, 1)));
}
template <int MR>
inline void f32_row(const float* x, const float* w, float* out, int64_t K, int64_t ldx) {
  __m256 acc[MR][2];
  for (int m = 0; m < MR; ++m) acc[m][0] = acc[m][1] = _mm256_setzero_ps();
  const int64_t K8 = K - K % 8;
  int64_t j = 0;
  for (int64_t k = 0; k < K8; k += 8, j ^= 1) {
    const __m256 wv = _mm256_loadu_ps(w + k);
    for (int m = 0; m < MR; ++m) acc[m][j] = _mm256_fmadd_ps(_mm256_loadu_ps(x + m * ldx + k), wv, acc[m][j]);
  }
  for (int m = 0; m < MR; ++m) {
    float s = hsum256(_mm256_add_ps(acc[m][0], acc[m][1]));
    for (int64_t k = K8; k < K; ++k) s += x[m * ldx + k] * w[k];
    out[m] = s;
  }
}
#else
constexpr bool kF32 = false;
#endif

constexpr int MR_MAX = 4;  // input rows per pass over a weight row (the row is in L1 after the first)

template <typename T, typename U, typename Row>
void run(const U* x, const U* w, const T* bias, T* y, int64_t M, int64_t K, int64_t N, int64_t ldx, Row row) {
  // Each thread streams its own contiguous run of weight rows: one sequential read per thread.
  at::parallel_for(0, N, 64, [&](int64_t begin, int64_t end) {
    float acc[MR_MAX];
    for (int64_t n = begin; n < end; ++n) {
      const U* wr = w + n * K;
      const float b = bias != nullptr ? static_cast<float>(bias[n]) : 0.f;
      for (int64_t m0 = 0; m0 < M; m0 += MR_MAX) {
        const int64_t mr = std::min<int64_t>(MR_MAX, M - m0);
        const U* xr = x + m0 * ldx;
        switch (mr) {
          case 1: row(std::integral_constant<int, 1>{}, xr, wr, acc, K, ldx); break;
          case 2: row(std::integral_constant<int, 2>{}, xr, wr, acc, K, ldx); break;
          case 3: row(std::integral_constant<int, 3>{}, xr, wr, acc, K, ldx); break;
          default: row(std::integral_constant<int, 4>{}, xr, wr, acc, K, ldx); break;
        }
        for (int64_t m = 0; m < mr; ++m) y[(m0 + m) * N + n] = static_cast<T>(acc[m] + b);
      }
    }
  });
}

}  // namespace

std::vector<std::string> supported() {
  std::vector<std::string> out;
  if (kF32) out.push_back("float32");
  if (kBf16) out.push_back("bfloat16");
  return out;
}

torch::Tensor linear(const torch::Tensor& x_in, const torch::Tensor& w, const c10::optional<torch::Tensor>& b) {
  TORCH_CHECK(x_in.dim() == 2 && w.dim() == 2 && x_in.size(1) == w.size(1), "x [M, K] and w [N, K]");
  TORCH_CHECK(x_in.scalar_type() == w.scalar_type(), "x and w must share a dtype");
  TORCH_CHECK(w.is_contiguous(), "w must be contiguous");
  const torch::Tensor x = x_in.stride(1) == 1 ? x_in : x_in.contiguous();
  const int64_t M = x.size(0), K = x.size(1), N = w.size(0), ldx = x.stride(0);
  auto y = torch::empty({M, N}, x.options());
  const torch::Tensor bias = b.has_value() ? b->contiguous() : torch::Tensor();
  if (x.scalar_type() == torch::kFloat32) {
#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
    const float* xp = x.data_ptr<float>();
    const float* wp = w.data_ptr<float>();
    run<float>(xp, wp, bias.defined() ? bias.data_ptr<float>() : nullptr, y.data_ptr<float>(), M, K, N, ldx,
               [](auto mr, const float* x, const float* w, float* out, int64_t k, int64_t ld) {
                 f32_row<decltype(mr)::value>(x, w, out, k, ld);
               });
    return y;
#endif
  }
#if defined(__AVX512BF16__)
  if (x.scalar_type() == torch::kBFloat16) {
    const auto* xp = reinterpret_cast<const uint16_t*>(x.data_ptr<at::BFloat16>());
    const auto* wp = reinterpret_cast<const uint16_t*>(w.data_ptr<at::BFloat16>());
    run<at::BFloat16>(
        xp, wp, bias.defined() ? bias.data_ptr<at::BFloat16>() : nullptr, y.data_ptr<at::BFloat16>(), M, K, N, ldx,
        [](auto mr, const uint16_t* x, const uint16_t* w, float* out, int64_t k, int64_t ld) {
          bf16_row<decltype(mr)::value>(x, w, out, k, ld);
        });
    return y;
  }
#endif
  TORCH_CHECK(false, "no small-GEMM path for this dtype on this CPU");
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("linear", &linear, "y = x @ w.T (+ b) for a few rows of x");
  m.def("supported", &supported, "dtypes this build computes");
}
