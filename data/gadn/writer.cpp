// `sakuga synth gadn` (data/gadn/writer.h).
#include "data/gadn/writer.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <system_error>
#include <vector>

#include "data/png.h"
#include "data/portraits.h"
#include "data/sampling.h"

namespace sakuga::data::gadn {

namespace fs = std::filesystem;

SynthKind parse_synth_kind(const std::string& s) {
  if (s == "fmnist-artists") return SynthKind::fmnist_artists;
  if (s == "portraits") return SynthKind::portraits;
  SAKUGA_FAIL("unknown gadn dataset kind '", s, "' (expected 'fmnist-artists' or 'portraits')");
}

const char* synth_kind_name(SynthKind k) { return k == SynthKind::fmnist_artists ? "fmnist-artists" : "portraits"; }

namespace {

// Makes `dir` an empty folder, or refuses (see SynthOptions::overwrite).
void prepare_folder(const std::string& dir, bool overwrite) {
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    SAKUGA_CHECK(fs::is_directory(dir, ec), "synth gadn: ", dir, " exists and is not a folder");
    if (!fs::is_empty(dir, ec)) {
      SAKUGA_CHECK(overwrite, "synth gadn: output folder ", dir, " is not empty (choose a new folder, or overwrite ",
                   "a previous gadn dataset)");
      SAKUGA_CHECK(fs::exists(fs::path(dir) / "factors.jsonl", ec), "synth gadn: refusing to overwrite ", dir,
                   ": it is not empty and holds no factors.jsonl, so it is not a gadn dataset");
      std::vector<fs::path> entries;  // listed first: removing while iterating is unspecified
      for (const auto& entry : fs::directory_iterator(dir, ec)) entries.push_back(entry.path());
      SAKUGA_CHECK(!ec, "synth gadn: cannot list ", dir, ": ", ec.message());
      for (const fs::path& entry : entries) {
        fs::remove_all(entry, ec);
        SAKUGA_CHECK(!ec, "synth gadn: cannot remove ", entry.string(), ": ", ec.message());
      }
    }
  }
  fs::create_directories(dir, ec);
  SAKUGA_CHECK(!ec, "synth gadn: cannot create ", dir, ": ", ec.message());
}

std::string sample_name(const char* prefix, int64_t i) {
  char name[48];
  std::snprintf(name, sizeof name, "%s-%06lld.png", prefix, static_cast<long long>(i));
  return name;
}

// (3, R, R) in [−1, 1] → [0, 1] for the PNG.
Tensor to_unit(const Tensor& t) {
  std::vector<float> v = t.to_vector();
  for (float& x : v) x = 0.5f * (x + 1.f);
  return Tensor::from_vector(v, t.shape());
}

}  // namespace

void write_gadn_dataset(const std::string& dir, const SynthOptions& opt) {
  const bool fmnist = opt.kind == SynthKind::fmnist_artists;
  SAKUGA_CHECK(opt.artists >= 2, "synth gadn: need at least 2 artists, got ", opt.artists);
  SAKUGA_CHECK(opt.count >= 2 * int64_t(opt.artists), "synth gadn: count ", opt.count, " leaves some of the ",
               opt.artists, " artists with fewer than 2 images; use a count of at least ", 2 * int64_t(opt.artists));
  const int64_t size = opt.size > 0 ? opt.size : fmnist ? kArtistImageSize : kPortraitDefaultSize;
  SAKUGA_CHECK(opt.size >= 0, "synth gadn: size must be positive, got ", opt.size);
  if (fmnist)
    SAKUGA_CHECK(size == kArtistImageSize, "synth gadn: fmnist-artists images are ", kArtistImageSize, "x",
                 kArtistImageSize, " (28 px garments padded), got size ", size);
  else
    SAKUGA_CHECK(size >= kPortraitMinSize && size <= kPortraitMaxSize, "synth gadn: portrait size must be in ",
                 kPortraitMinSize, " … ", kPortraitMaxSize, ", got ", size);
  SAKUGA_CHECK(opt.split == "train" || opt.split == "test", "synth gadn: split must be 'train' or 'test', got '",
               opt.split, "'");

  // Load the inputs before touching the folder, so a missing dataset leaves nothing behind.
  std::unique_ptr<FmnistArtists> garments;
  std::vector<PortraitStyle> portrait_styles;
  if (fmnist)
    garments = std::make_unique<FmnistArtists>(opt.split, opt.max_garments, opt.artists, opt.artist_seed,
                                               opt.fmnist_dir);
  else
    portrait_styles = portrait_artist_styles(opt.artists, opt.artist_seed);

  prepare_folder(dir, opt.overwrite);
  for (int a = 0; a < opt.artists; ++a) {
    std::error_code ec;
    const fs::path folder = fs::path(dir) / artist_label(a);
    fs::create_directories(folder, ec);
    SAKUGA_CHECK(!ec, "synth gadn: cannot create ", folder.string(), ": ", ec.message());
  }

  const std::string factors_path = (fs::path(dir) / "factors.jsonl").string();
  const std::string tmp_path = factors_path + ".tmp";
  std::ofstream factors(tmp_path);
  SAKUGA_CHECK(factors, "synth gadn: cannot write ", tmp_path);
  const int64_t n = garments ? garments->size() : 0;
  std::vector<int64_t> order;
  int64_t order_epoch = -1;
  for (int64_t i = 0; i < opt.count; ++i) {
    const int artist = int(i % opt.artists);
    const std::string label = artist_label(artist);
    nlohmann::json line;
    Tensor image;  // (3, R, R) in [0, 1]
    std::string name;
    if (fmnist) {
      if (i / n != order_epoch) {
        order_epoch = i / n;
        order = epoch_order(n, opt.seed, order_epoch);
      }
      const int64_t g = order[size_t(i % n)];
      name = sample_name("fmnist", i);
      image = to_unit(garments->sample(g, artist));
      line = {{"file", label + "/" + name},
              {"style", label},
              {"class", garments->garment_class(g)},
              {"source", {{"split", opt.split}, {"index", g}}},
              {"style_factors", to_json(garments->style(artist))}};
    } else {
      const Portrait p = sample_portrait(opt.seed, i, size, portrait_styles[size_t(artist)]);
      name = sample_name("portrait", i);
      image = p.image;
      line = to_json(p.content);
      line["file"] = label + "/" + name;
      line["style"] = label;
      line["style_factors"] = to_json(p.style);
      nlohmann::json eyes = nlohmann::json::array();
      for (const EyeRegion& e : p.eyes) eyes.push_back({e.box.x0, e.box.y0, e.box.x1, e.box.y1});
      line["eyes"] = eyes;
    }
    write_png_tensor((fs::path(dir) / label / name).string(), image);
    factors << line.dump() << '\n';
    SAKUGA_CHECK(factors, "synth gadn: write error on ", tmp_path);
    if (opt.progress) opt.progress(i + 1, opt.count);
  }
  factors.close();
  SAKUGA_CHECK(factors, "synth gadn: write error on ", tmp_path);
  std::error_code ec;
  fs::rename(tmp_path, factors_path, ec);
  SAKUGA_CHECK(!ec, "synth gadn: cannot rename ", tmp_path, " to ", factors_path, ": ", ec.message());
}

}  // namespace sakuga::data::gadn
