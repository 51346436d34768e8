#include "nets/registry.h"

#include "nets/fmnist/train.h"
#include "nets/gadn/train.h"
#include "nets/gcn/train.h"
#include "nets/redraw/family.h"
#include "nets/scenimefy/train.h"
#include "nets/toygan/toygan.h"

namespace sakuga {

const std::vector<FamilyEntry>& families() {
  static const std::vector<FamilyEntry> all = [] {
    std::vector<FamilyEntry> v;
    for (data::SegTask task : {data::SegTask::douga, data::SegTask::cel}) {
      const bool cel = task == data::SegTask::cel;
      v.push_back({data::seg_task_name(task),
                   cel ? "GCN cel segmentation (1 logit: cel vs background)"
                       : "GCN douga reconstruction (10 line-art classes) — the main demo",
                   [task] { return gcn::default_config(task); },
                   [task](const Config& cfg, Device dev, bool quiet) { return gcn::make_family(task, cfg, dev, quiet); },
                   std::string("python3 bench/torch_gcn_train.py ") + data::seg_task_name(task) +
                       " --config <the same> --sakuga-json <--json file>"});
    }
    v.push_back({"gadn", "GADN style/content disentanglement (Xiang & Li): stage 1, C2 pre-training, stage 2",
                 gadn::default_config, gadn::make_family,
                 "python3 bench/torch_gadn_train.py --sakuga-json <--json file>"});
    v.push_back({"scenimefy",
                 "Scenimefy photo → anime scenes (CUT + StylePatchNCE + SRC/HDCE), semi-supervised",
                 scenimefy::default_config, scenimefy::make_family,
                 "python3 bench/torch_scenimefy_train.py --sakuga-json <--json file>"});
    v.push_back({"redraw",
                 "Re:Draw eye redrawing: --stage detect (faces/eyes), encoder (style-aware clustering), "
                 "redrawer (G vs D_q and D_c)",
                 redraw::default_config, redraw::make_family,
                 "python3 bench/torch_redraw_train.py --sakuga-json <--json file> (any --stage)"});
    v.push_back({"fashion-mnist", "small CNN on Fashion-MNIST (Debian dataset-fashion-mnist)", fmnist::default_config,
                 [](const Config& cfg, Device dev, bool) { return fmnist::make_family(cfg, dev); },
                 "python3 bench/torch_fmnist_train.py --sakuga-json <--json file>"});
    v.push_back({"toy-gan", "two-network GAN on 2-D points (the harness's worked example)", toygan::default_config,
                 [](const Config& cfg, Device dev, bool) { return toygan::make_family(cfg, dev); },
                 "python3 bench/torch_toygan_train.py --sakuga-json <--json file>"});
    return v;
  }();
  return all;
}

const FamilyEntry& find_family(const std::string& name) {
  std::string known;
  for (const auto& f : families()) {
    if (f.name == name) return f;
    known += (known.empty() ? "" : ", ") + f.name;
  }
  SAKUGA_FAIL("unknown family '", name, "' (registered: ", known, ")");
}

}  // namespace sakuga
