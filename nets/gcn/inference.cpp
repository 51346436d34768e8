#include "nets/gcn/inference.h"

#include "data/gcn/douga.h"
#include "nets/gcn/config.h"
#include "tensor/autograd.h"
#include "tensor/ops.h"
#include "tensor/safetensors.h"

namespace sakuga::gcn {

using data::SegTask;

void check_variant(SegTask task, const std::string& v, const std::string& cel_ckpt) {
  SAKUGA_CHECK(v == "color" || v == "synthetic-cel" || v == "concatenated" || v == "manual-cel",
               "config variant.kind: expected color, synthetic-cel, concatenated or manual-cel, got '", v, "'");
  SAKUGA_CHECK(task == SegTask::douga || v == "color", "config variant.kind: the cel task has no variants (got '", v,
               "')");
  if (v == "synthetic-cel" || v == "concatenated")
    SAKUGA_CHECK(!cel_ckpt.empty(), "config variant.cel_ckpt: variant '", v,
                 "' needs a trained cel model checkpoint (sakuga train cel ...)");
}

namespace {

// Copies the network's tensors of `file` into `net`: the optimiser state ("optim.") and the
// discriminator ("disc.") stay behind. Errors list every missing / mis-shaped tensor.
void load_weights(nn::Module& net, const io::SafetensorsFile& file, const std::string& path) {
  nn::StateDict sd;
  for (const auto& [k, v] : file.tensors)
    if (k.rfind("optim.", 0) != 0 && k.rfind("disc.", 0) != 0) sd[k] = v;
  try {
    net.load_state_dict(sd, true);
  } catch (const Error& e) {
    SAKUGA_FAIL(path, ": ", e.what());
  }
}

}  // namespace

LoadedModel load_model(SegTask task, const std::string& ckpt, const std::vector<std::string>& files,
                       const std::vector<std::string>& sets, Device dev) {
  io::SafetensorsFile file = io::load_safetensors(ckpt);
  // A training checkpoint of another family (a douga one for cel is caught by model.task below).
  if (auto it = file.metadata.find("family"); it != file.metadata.end())
    SAKUGA_CHECK(it->second == "cel" || it->second == "douga", ckpt, ": a checkpoint of family '", it->second,
                 "', not a gcn (cel / douga) model");
  ConfigSources src;
  src.files = files;
  src.sets = sets;
  if (auto it = file.metadata.find("config"); it != file.metadata.end()) {
    try {
      src.saved = Json::parse(it->second);
    } catch (const std::exception& e) {
      SAKUGA_FAIL(ckpt, ": metadata 'config' is not valid JSON (", e.what(), ")");
    }
    src.saved_source = ckpt + " (metadata config)";
  }
  LoadedModel m;
  m.cfg = resolve_config(default_config(task), src);
  try {
    m.net = std::make_shared<GcnNet>(model_config(task, m.cfg));
  } catch (const Error& e) {
    SAKUGA_FAIL(ckpt, ": ", e.what());
  }
  load_weights(*m.net, file, ckpt);
  m.net->to(dev);
  m.net->eval();
  m.variant = m.cfg.get<std::string>("variant.kind");
  const std::string cel_ckpt = m.cfg.get<std::string>("variant.cel_ckpt");
  check_variant(task, m.variant, cel_ckpt);
  if (m.variant == "synthetic-cel" || m.variant == "concatenated")
    m.cel_net = load_model(SegTask::cel, cel_ckpt, {}, {}, dev).net;
  return m;
}

Tensor predict_logits(GcnNet& net, const Tensor& input) {
  NoGradGuard ng;
  const int64_t H = input.size(2), W = input.size(3);
  if (H >= 64 && W >= 64) return net(input);
  const int64_t ph = std::max<int64_t>(0, 64 - H), pw = std::max<int64_t>(0, 64 - W);
  Tensor padded = ops::pad(input, {0, pw, 0, ph});
  return ops::slice(ops::slice(net(padded), 2, 0, H), 3, 0, W).contiguous();
}

namespace {

// (N, 1, H, W) cel logits → (N, H, W) i32: 1 where the logit is > 0 (σ > 0.5), else 0.
Tensor cel_classes(const Tensor& logits) {
  NoGradGuard ng;
  Tensor zeros = Tensor::zeros(logits.shape(), logits.dtype(), logits.device());
  return ops::argmax(ops::concat({zeros, logits}, 1), 1);  // ties (logit 0) → 0
}

// Cel mask (N, 1, H, W) f32 in {0, 1} predicted by a cel network.
Tensor predicted_mask(GcnNet& cel, const Tensor& frame) {
  NoGradGuard ng;
  return ops::unsqueeze(cel_classes(predict_logits(cel, frame)), 1).to(DType::f32);
}

}  // namespace

Tensor variant_input(const std::string& variant, GcnNet* cel_net, const Tensor& frame, const Tensor& mask) {
  if (variant == "color") return frame;
  if (variant == "manual-cel") {
    SAKUGA_CHECK(mask.defined(), "variant manual-cel: the data has no cel masks (masks/NAME.png)");
    return frame * mask;
  }
  SAKUGA_CHECK(cel_net, "variant ", variant, ": no cel model loaded");
  Tensor m = predicted_mask(*cel_net, frame);
  if (variant == "synthetic-cel") return frame * m;
  return ops::concat({frame, m}, 1);  // concatenated
}

Tensor predict_classes(SegTask task, const Tensor& logits) {
  NoGradGuard ng;
  if (task == SegTask::cel) return cel_classes(logits);
  return ops::argmax(logits, 1);
}

std::vector<std::string> class_names(SegTask task) {
  if (task == SegTask::cel) return {"background", "cel"};
  std::vector<std::string> n;
  for (const char* s : data::douga_class_names()) n.push_back(s);
  return n;
}

Tensor class_picture(SegTask task, const Tensor& classes) {
  if (task == SegTask::douga) return data::douga_to_rgb(classes.to(Device::cpu()));
  Tensor g = ops::unsqueeze(classes.to(Device::cpu()).to(DType::f32), 0);
  return ops::concat({g, g, g}, 0);
}

}  // namespace sakuga::gcn
