#include "nets/gadn/eval.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "data/canvas.h"
#include "data/gadn/label_folders.h"
#include "data/png.h"
#include "kernels/log.h"
#include "losses/gadn.h"
#include "nets/gadn/metrics.h"
#include "nets/gadn/train.h"
#include "nets/harness/run_files.h"
#include "optim/adam.h"
#include "tensor/autograd.h"
#include "tensor/ops.h"
#include "tensor/safetensors.h"

namespace sakuga::gadn {

namespace fs = std::filesystem;

namespace {

LoadedModel load(const ModelSource& m) {
  return load_model(m.ckpt, m.config_files, m.sets, Device::parse(m.device));
}

int label_index(const LoadedModel& m, const std::string& name, const std::string& where) {
  auto it = std::find(m.label_names.begin(), m.label_names.end(), name);
  if (it == m.label_names.end()) {
    std::string known;
    for (size_t i = 0; i < std::min<size_t>(m.label_names.size(), 12); ++i)
      known += (i ? ", " : "") + m.label_names[i];
    SAKUGA_FAIL(where, ": the model has no label '", name, "' (it knows ", m.label_names.size(), ": ", known,
                m.label_names.size() > 12 ? ", …" : "", ")");
  }
  return int(it - m.label_names.begin());
}

// A classifier trained on (images, classes) rows `train` (Adam 1e-3, batch 32); returns the
// accuracy function on any images.
struct Probe {
  std::shared_ptr<Classifier> net;
  int classes = 0;
  double accuracy(const Tensor& images, const std::vector<int>& truth, Device dev) const {
    NoGradGuard ng;
    net->eval();
    int64_t right = 0;
    for (int64_t s = 0; s < images.size(0); s += 64) {
      const int64_t b = std::min<int64_t>(64, images.size(0) - s);
      const std::vector<int32_t> pred =
          ops::argmax((*net)(ops::slice(images, 0, s, s + b).contiguous().to(dev)), 1).to_vector_i32();
      for (int64_t i = 0; i < b; ++i) right += pred[size_t(i)] == truth[size_t(s + i)];
    }
    return double(right) / double(std::max<int64_t>(1, images.size(0)));
  }
};

Probe train_probe(const NetConfig& base, const Tensor& images, const std::vector<int>& classes, int64_t steps,
                  uint64_t seed, Device dev, const std::string& what) {
  Probe p;
  p.classes = *std::max_element(classes.begin(), classes.end()) + 1;
  NetConfig cfg = base;
  cfg.labels = p.classes;
  manual_seed(seed);
  p.net = std::make_shared<Classifier>(cfg);
  p.net->to(dev);
  optim::AdamOptions ao;
  ao.lr = 1e-3;
  optim::Adam adam(p.net->named_parameters(), ao);
  const int64_t n = images.size(0), batch = std::min<int64_t>(32, n);
  harness::Progress progress("probe " + what, 0, steps);
  for (int64_t s = 0; s < steps; ++s) {
    std::vector<int32_t> idx(static_cast<size_t>(batch)), y(static_cast<size_t>(batch));
    for (int64_t b = 0; b < batch; ++b) {
      idx[size_t(b)] = int32_t((s * batch + b * 7919) % n);
      y[size_t(b)] = classes[size_t(idx[size_t(b)])];
    }
    const Tensor x = ops::index_select(images, 0, Tensor::from_vector_i32(idx, {batch})).to(dev);
    const Tensor loss = losses::classifier_nll((*p.net)(x), Tensor::from_vector_i32(y, {batch}).to(dev));
    adam.zero_grad();
    loss.backward();
    adam.step();
    progress.update(s + 1);
  }
  progress.finish();
  return p;
}

}  // namespace

int run_eval(const EvalOptions& o) {
  SAKUGA_CHECK(!o.data_dir.empty(), "eval gadn: give --data DIR (DIR/<label>/*.png, e.g. from sakuga synth gadn)");
  const Device dev = Device::parse(o.model.device);
  LoadedModel m = load(o.model);
  data::gadn::LabelFolderDataset ds(o.data_dir, {m.net.size, m.net.alpha});
  const int64_t n = int64_t(ds.size());
  SAKUGA_CHECK(n >= 8, o.data_dir, ": ", n, " images; the tables need at least 8");
  // The folder labels by the model's label index (a folder the model does not know is an error).
  std::vector<int> style(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    style[size_t(i)] = label_index(m, ds.labels()[size_t(ds.label(size_t(i)))], o.data_dir + "/" + ds.file(size_t(i)));
  std::vector<size_t> all(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) all[size_t(i)] = size_t(i);
  harness::Progress progress("eval", 0, n, "image");
  std::vector<Tensor> imgs;
  for (int64_t i = 0; i < n; ++i) {
    imgs.push_back(ds.load(size_t(i)).image);
    progress.update(i + 1);
  }
  progress.finish();
  const Tensor images = ops::stack(imgs, 0);
  std::vector<std::pair<std::string, std::vector<int>>> factors{{"style", style}};
  for (const auto& name : ds.content_factor_names()) {
    std::vector<int> v;
    for (int64_t c : ds.factor_classes(name)) v.push_back(int(c));
    factors.emplace_back(name, v);
  }
  const Codes codes = encode_all(*m.e, images, dev);
  Json j = disentanglement_table(codes, factors);
  fmt::print("gadn: {} images of {}, checkpoint {}\n", n, o.data_dir, o.model.ckpt);
  fmt::print("{}", format_disentanglement_table(j));

  // Swap accuracy: probes trained on the even images read the swapped odd ones.
  Json swap = nullptr;
  if (o.classifier_steps > 0) {
    std::vector<int32_t> even, odd;
    for (int64_t i = 0; i < n; ++i) (i % 2 ? odd : even).push_back(int32_t(i));
    auto rows = [&](const std::vector<int32_t>& idx) {
      return ops::index_select(images, 0, Tensor::from_vector_i32(idx, {int64_t(idx.size())}));
    };
    auto pick = [&](const std::vector<int>& v, const std::vector<int32_t>& idx) {
      std::vector<int> out;
      for (int32_t i : idx) out.push_back(v[size_t(i)]);
      return out;
    };
    const Tensor train_x = rows(even), test_x = rows(odd);
    // The swapped images: each odd image's content in another label's mean style.
    const int k = int(m.label_names.size());
    std::vector<int> target(odd.size());
    std::vector<Tensor> swapped;
    {
      NoGradGuard ng;
      for (size_t s = 0; s < odd.size(); s += 64) {
        const size_t b = std::min<size_t>(64, odd.size() - s);
        std::vector<int32_t> lab(b);
        for (size_t i = 0; i < b; ++i) {
          const int a = style[size_t(odd[s + i])];
          lab[i] = int32_t((a + 1 + int((o.seed + s + i) % uint64_t(std::max(1, k - 1)))) % k);
          target[s + i] = lab[i];
        }
        const Tensor x = ops::slice(test_x, 0, int64_t(s), int64_t(s + b)).contiguous().to(dev);
        const Tensor st = m.s->code(Tensor::from_vector_i32(lab, {int64_t(b)}).to(dev)).mean;
        swapped.push_back(m.g->generate(m.e->encode(x).mean, st).to(Device::cpu()));
      }
    }
    Tensor swapped_x = ops::concat(swapped, 0);
    if (m.net.alpha)  // the generator draws RGB: an opaque alpha channel for the probes
      swapped_x = ops::concat({swapped_x, Tensor::ones({swapped_x.size(0), 1, m.net.size, m.net.size})}, 1);
    NetConfig probe_cfg = m.net;
    const Probe sp = train_probe(probe_cfg, train_x, pick(style, even), o.classifier_steps, o.seed, dev, "style");
    swap = {{"style_accuracy", sp.accuracy(swapped_x, target, dev)},
            {"real_style_accuracy", sp.accuracy(test_x, pick(style, odd), dev)},
            {"chance_style", 1.0 / sp.classes}};
    if (factors.size() > 1) {
      const auto& [cname, cv] = factors[1];
      const Probe cp = train_probe(probe_cfg, train_x, pick(cv, even), o.classifier_steps, o.seed + 1, dev, cname);
      swap["content_factor"] = cname;
      swap["content_accuracy"] = cp.accuracy(swapped_x, pick(cv, odd), dev);
      swap["real_content_accuracy"] = cp.accuracy(test_x, pick(cv, odd), dev);
      swap["chance_content"] = 1.0 / cp.classes;
    }
    fmt::print("\nswap accuracy: x~ = G(mu(x), m_a'), a' != a, read by classifiers trained on real images\n");
    fmt::print("  style a' recovered     {:.4f}   (on real images {:.4f}, chance {:.4f})\n",
               swap["style_accuracy"].get<double>(), swap["real_style_accuracy"].get<double>(),
               swap["chance_style"].get<double>());
    if (swap.contains("content_accuracy"))
      fmt::print("  content '{}' kept   {:.4f}   (on real images {:.4f}, chance {:.4f})\n",
                 swap["content_factor"].get<std::string>(), swap["content_accuracy"].get<double>(),
                 swap["real_content_accuracy"].get<double>(), swap["chance_content"].get<double>());
  }
  j["swap"] = swap;
  j["checkpoint"] = o.model.ckpt;
  j["data"] = o.data_dir;
  if (!o.json_file.empty()) harness::write_file_atomic(o.json_file, j.dump(2) + "\n");
  return 0;
}

int run_infer(const InferOptions& o) {
  const Device dev = Device::parse(o.model.device);
  LoadedModel m = load(o.model);
  SAKUGA_CHECK(!o.out.empty(), "infer gadn: --out is required");
  NoGradGuard ng;
  if (!o.encode.empty()) {
    std::vector<Tensor> imgs;
    for (const auto& p : o.encode) imgs.push_back(data::gadn::load_label_image(p, m.net.size, m.net.alpha));
    const Tensor x = ops::stack(imgs, 0).to(dev);
    const GaussianCode c = m.e->encode(x);
    io::save_safetensors(o.out, {{"mu", c.mean.to(Device::cpu())}, {"sigma", c.sigma.to(Device::cpu())}});
    log::info("infer gadn: codes of {} images ({} dimensions) in {}", o.encode.size(), m.net.z, o.out);
    return 0;
  }
  SAKUGA_CHECK(!o.inputs.empty(), "infer gadn: give --encode FILES or --input FILES with --style / --random-styles");
  // The styles: labels by name, then random draws from the prior N(0, I).
  std::vector<std::string> names;
  std::vector<Tensor> codes;
  for (const auto& label : o.styles) {
    const int k = label_index(m, label, "--style");
    names.push_back(label);
    codes.push_back(ops::select(m.s->code(Tensor::full({1}, double(k), DType::i32).to(dev)).mean, 0, 0));
  }
  Generator gen(o.seed);
  for (int64_t r = 0; r < o.random_styles; ++r) {
    names.push_back(fmt::format("random-{}", r));
    codes.push_back(randn({m.net.zs}, gen).to(dev));
  }
  SAKUGA_CHECK(!codes.empty(), "infer gadn: --style LABEL[,LABEL…] or --random-styles N");
  fs::create_directories(o.out);
  std::vector<std::vector<Tensor>> grid;
  for (const auto& path : o.inputs) {
    const Tensor x = ops::unsqueeze(data::gadn::load_label_image(path, m.net.size, m.net.alpha), 0).to(dev);
    const Tensor mu = m.e->encode(x).mean;
    std::vector<Tensor> row{ops::slice(ops::select((x.to(Device::cpu()) + 1.0) * 0.5, 0, 0), 0, 0, 3).contiguous()};
    for (size_t s = 0; s < codes.size(); ++s) {
      const Tensor img = (ops::select(m.g->generate(mu, ops::unsqueeze(codes[s], 0)), 0, 0).to(Device::cpu()) + 1.0) * 0.5;
      const std::string file = o.out + "/" + fs::path(path).stem().string() + "." + names[s] + ".png";
      data::write_png_tensor(file, ops::clamp(img, 0.0, 1.0));
      row.push_back(img);
    }
    grid.push_back(row);
  }
  if (o.grid) {
    data::GridLabels gl;
    gl.columns.push_back("input");
    for (const auto& n : names) gl.columns.push_back(n.substr(0, 10));
    data::write_png_tensor(o.out + "/grid.png", data::image_grid(grid, gl));
  }
  log::info("infer gadn: {} input(s) × {} style(s) in {}", o.inputs.size(), codes.size(), o.out);
  return 0;
}

}  // namespace sakuga::gadn
