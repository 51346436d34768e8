// Oracle: torchvision's Inception-v3 pool features against sakuga's (reference values from
// tests/oracle/test_inception.py): random weights through tools/convert_torchvision.py, two
// images of other sizes resized to 299², features (2, 2048) within 1e-4 relative.
#include <string>
#include <vector>

#include "nets/inception/inception.h"
#include "tests/oracle_common.h"

using namespace sakuga;

TEST_SUITE("oracle") {
TEST_CASE("oracle_inception") {
  auto f = test::oracle_file();
  if (!f) return;
  auto cfg = test::oracle_meta(*f, "config");
  auto net = inception::load_inception(cfg.at("weights").get<std::string>(), Device::cpu());
  std::vector<Tensor> images;
  for (int i = 0; i < cfg.at("images").get<int>(); ++i) images.push_back(test::oracle_tensor(*f, "image" + std::to_string(i)));
  const Tensor got = net->pool_features(images, Device::cpu(), 1);
  test::check_close(got, test::oracle_tensor(*f, "features"), 1e-4, "pool features");
}
}
