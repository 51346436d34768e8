// `sakuga eval redraw --stage redrawer` (redraw.md "Pinned interfaces"): the redrawer's G on
// synthetic crops whose target design always differs from their own, against two baselines —
// the input itself and a copy-paste of the guide's pixels into the region without blending:
//   design_accuracy  a design classifier trained here on real eye regions of another stream
//                    reads the redrawn region; the share read as the target design
//   lowpass_error    mean |L_σ(t) − L_σ(l)| over the crop: the structure kept from the input
//   seam_error       mean |f(p) − f(q)| over 4-neighbour pairs p inside, q outside the region,
//                    after Poisson blending G's output (border_extended) into the input;
//                    also without blending, and the true redrawing's (the natural level)
//   l1_truth         mean |t − t*| inside the region, t* the true redrawing
// Each over the seen and the held-out ("unseen") productions.
#include <fmt/format.h>

#include <algorithm>

#include "data/redraw/blend.h"
#include "kernels/log.h"
#include "nets/harness/checkpoint.h"
#include "nets/harness/run_files.h"
#include "nets/harness/trainer.h"
#include "nets/redraw/redrawer.h"
#include "nets/redraw/tools.h"
#include "optim/adam.h"
#include "tensor/ops.h"
#include "tensor/ops/redraw.h"
#include "tensor/safetensors.h"

namespace sakuga::redraw {

namespace {

// The class logits of a patch classifier averaged over its patches: (B, K).
Tensor image_logits(PatchClassifier& c, const Tensor& x) { return ops::mean(c(x), {2, 3}); }

// A design classifier on real eye regions (x ⊙ m) of stream `seed`, every production.
std::shared_ptr<PatchClassifier> train_design_classifier(const RedrawerData& data, const RedrawerModel& m, uint64_t seed,
                                                         int64_t steps, Device dev, bool quiet) {
  manual_seed(seed);
  auto c = std::make_shared<PatchClassifier>(3, m.data.designs, 16, std::min<int64_t>(3, m.settings.net.d_layers));
  c->to(dev);
  optim::AdamOptions ao;
  ao.lr = 1e-3;
  optim::Adam opt(c->named_parameters(), ao);
  std::vector<int> all;
  for (int p = 0; p < m.data.productions; ++p) all.push_back(p);
  harness::Progress progress("design classifier", 0, steps, "step");
  const int64_t batch = 16;
  for (int64_t step = 0; step < steps; ++step) {
    std::vector<int64_t> ids;
    for (int64_t i = 0; i < batch; ++i) ids.push_back(step * batch + i);
    const harness::Batch b = data.batch(seed, ids, all);
    const Tensor x = (b.at("x") * b.at("mask")).to(dev);
    const Tensor loss = ops::cross_entropy(image_logits(*c, x), b.at("design").to(dev));
    opt.zero_grad();
    loss.backward();
    opt.step();
    if (!quiet) progress.update(step + 1);
  }
  if (!quiet) progress.finish();
  c->eval();
  return c;
}

// Mean |f(p) − f(q)| over the 4-neighbour pairs with p inside, q outside the mask, per image
// summed into (sum, count). f (3, S, S), mask (S, S) f32 {0, 1}, both CPU.
void seam_sums(const Tensor& f, const Tensor& mask, double& sum, double& count) {
  const int64_t S = f.size(1), n = S * S;
  const float* px = f.data<float>();
  const float* m = mask.data<float>();
  for (int64_t y = 0; y < S; ++y)
    for (int64_t x = 0; x < S; ++x) {
      const int64_t i = y * S + x;
      const int64_t nb[2] = {x + 1 < S ? i + 1 : -1, y + 1 < S ? i + S : -1};
      for (int64_t j : nb) {
        if (j < 0 || (m[i] > 0.5f) == (m[j] > 0.5f)) continue;
        for (int64_t c = 0; c < 3; ++c) sum += std::fabs(double(px[c * n + i]) - double(px[c * n + j])) / 3.0;
        count += 1;
      }
    }
}

struct Scores {
  double n = 0;
  std::map<std::string, double> sums;  // accumulated per-sample means
  void add(const std::string& k, double v, double w = 1) { sums[k] += v * w; }
  Json json() const {
    Json j = Json::object();
    for (const auto& [k, v] : sums) j[k] = n > 0 ? v / n : 0.0;
    return j;
  }
};

}  // namespace

int run_redrawer_eval(const EvalOptions& o) {
  SAKUGA_CHECK(o.data_dir.empty(), "eval redraw --stage redrawer: measured on synthetic crops with their true "
               "redrawings (--synthetic N --seed S), not on a dataset folder");
  SAKUGA_CHECK(o.synthetic >= 1, "eval redraw: --synthetic must be at least 1, got ", o.synthetic);
  SAKUGA_CHECK(o.classifier_steps >= 1, "eval redraw: --classifier-steps must be at least 1, got ", o.classifier_steps);
  const Device dev = Device::parse(o.model.device);
  const RedrawerModel m = load_redrawer(o.model);
  const RedrawerData data(m.settings, m.data);
  const auto classifier =
      train_design_classifier(data, m, o.seed + 0x636C61737369ull, o.classifier_steps, dev, o.quiet);
  NoGradGuard ng;
  std::map<std::string, Scores> by_split;  // "seen", "unseen"
  const double sg = m.settings.loss.sigma;
  harness::Progress progress("eval redraw redrawer", 0, 2 * o.synthetic, "crop");
  int64_t done = 0;
  const int64_t bs = 8;
  for (const auto& [split, prods] : {std::pair<std::string, std::vector<int>>{"seen", data.seen()},
                                     {"unseen", data.unseen()}}) {
    if (prods.empty()) continue;
    Scores& sc = by_split[split];
    for (int64_t lo = 0; lo < o.synthetic; lo += bs) {
      std::vector<int64_t> ids;
      for (int64_t i = lo; i < std::min(o.synthetic, lo + bs); ++i) ids.push_back(i);
      const harness::Batch b = data.batch(o.seed, ids, prods, 1.0);  // always another design
      auto get = [&](const char* k) { return b.at(k).to(dev); };
      const Tensor low = get("low"), guide = get("guide"), truth = get("truth"), m4 = get("mask");
      const Tensor raw = m.g->redraw(low, guide, m4);
      const Tensor t = ops::redraw_d_inputs(raw, low, m4, m4).t;
      const Tensor copy = m4 * guide + (ops::neg(m4) + 1.0) * low;
      const std::vector<int32_t> target = b.at("target").to_vector_i32();
      const int64_t k = int64_t(ids.size());
      auto accuracy = [&](const Tensor& img) {
        const std::vector<int32_t> pred = ops::argmax(image_logits(*classifier, img * m4), 1).to_vector_i32();
        double hit = 0;
        for (int64_t i = 0; i < k; ++i) hit += pred[size_t(i)] == target[size_t(i)];
        return hit;
      };
      const std::vector<int32_t> own = b.at("design").to_vector_i32();
      {
        const std::vector<int32_t> pred = ops::argmax(image_logits(*classifier, get("x") * m4), 1).to_vector_i32();
        for (int64_t i = 0; i < k; ++i) sc.add("classifier_accuracy_real", pred[size_t(i)] == own[size_t(i)]);
      }
      sc.add("design_accuracy", accuracy(t));
      sc.add("design_accuracy_input", accuracy(low));
      sc.add("design_accuracy_copy", accuracy(copy));
      sc.add("design_accuracy_truth", accuracy(truth));
      const Tensor low_lp = gaussian_lowpass(low, sg);
      auto lp = [&](const Tensor& img) {
        return ops::mean(ops::abs(gaussian_lowpass(img, sg) - low_lp), {1, 2, 3}).to(Device::cpu()).to_vector();
      };
      auto l1 = [&](const Tensor& img) {
        return ops::div(ops::sum(ops::abs(img - truth) * m4, {1, 2, 3}),
                        ops::clamp(ops::sum(m4, {1, 2, 3}), 1.0, 1e30) * 3.0)
            .to(Device::cpu())
            .to_vector();
      };
      const auto lp_t = lp(t), lp_c = lp(copy), l1_t = l1(t), l1_c = l1(copy), l1_i = l1(low);
      const Tensor cpu_low = low.to(Device::cpu()), cpu_raw = raw.to(Device::cpu()), cpu_t = t.to(Device::cpu()),
                   cpu_copy = copy.to(Device::cpu()), cpu_truth = truth.to(Device::cpu()),
                   cpu_m = b.at("mask");
      for (int64_t i = 0; i < k; ++i) {
        sc.add("lowpass_error", lp_t[size_t(i)]);
        sc.add("lowpass_error_copy", lp_c[size_t(i)]);
        sc.add("l1_truth", l1_t[size_t(i)]);
        sc.add("l1_truth_copy", l1_c[size_t(i)]);
        sc.add("l1_truth_input", l1_i[size_t(i)]);
        const Tensor mi = ops::select(ops::select(cpu_m, 0, i), 0, 0).contiguous();
        const Tensor mask_u8 = mi.to(DType::u8);
        const Tensor blended =
            data::redraw::poisson_blend(ops::select(cpu_low, 0, i).contiguous(),
                                        border_extended(ops::select(cpu_raw, 0, i).contiguous(), mask_u8), mask_u8)
                .image;
        auto seam = [&](const Tensor& f, const char* key) {
          double s = 0, c = 0;
          seam_sums(f, mi, s, c);
          sc.add(key, c > 0 ? s / c : 0.0);
        };
        seam(blended, "seam_error");
        seam(ops::select(cpu_t, 0, i).contiguous(), "seam_error_unblended");
        seam(ops::select(cpu_copy, 0, i).contiguous(), "seam_error_copy");
        seam(ops::select(cpu_truth, 0, i).contiguous(), "seam_error_truth");
      }
      sc.n += double(k);
      done += k;
      if (!o.quiet) progress.update(done);
    }
  }
  if (!o.quiet) progress.finish();
  Json j{{"crops_per_split", o.synthetic}, {"seed", o.seed}, {"classifier_steps", o.classifier_steps}};
  for (const auto& [split, sc] : by_split) j[split] = sc.json();
  const char* rows[][4] = {{"design_accuracy", "design_accuracy_input", "design_accuracy_copy", "higher"},
                           {"lowpass_error", "", "lowpass_error_copy", "lower"},
                           {"seam_error", "seam_error_unblended", "seam_error_copy", "lower"},
                           {"l1_truth", "l1_truth_input", "l1_truth_copy", "lower"}};
  std::string table = fmt::format("{:<16} {:>7} {:>10} {:>10} {:>11}  split\n", "metric", "G", "input", "copy-paste",
                                  "better");
  for (const auto& [split, sc] : by_split) {
    const Json s = sc.json();
    for (const auto& r : rows) {
      auto v = [&](const char* k) { return *k ? fmt::format("{:.4f}", s.value(k, 0.0)) : std::string("0"); };
      table += fmt::format("{:<16} {:>7} {:>10} {:>10} {:>11}  {}\n", r[0], v(r[0]),
                           std::string(r[1]) == "seam_error_unblended" ? v(r[1]) + "*" : v(r[1]), v(r[2]), r[3], split);
    }
    table += fmt::format("  ({}: the true redrawing's seam {:.4f}; the classifier reads real eyes at {:.4f})\n", split,
                         s.value("seam_error_truth", 0.0), s.value("classifier_accuracy_real", 0.0));
  }
  std::printf("%s* seam_error's input column: G's output pasted without blending\n", table.c_str());
  if (!o.json_file.empty()) harness::write_file_atomic(o.json_file, j.dump(2) + "\n");
  return 0;
}

}  // namespace sakuga::redraw
