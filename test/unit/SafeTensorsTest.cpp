//===- SafeTensorsTest.cpp - safetensors header validation and checkpoints ---------===//

#include "TestUtil.h"

#include "vgcu/Weights/SafeTensors.h"

#include <cstring>

using namespace vgcu;
using namespace vgcu::test;

namespace {

/// A safetensors image: little-endian header length, the header, then `data`.
std::string image(const std::string &header, const std::string &data,
                  std::optional<uint64_t> declaredLength = std::nullopt) {
  uint64_t length = declaredLength.value_or(header.size());
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i)
    bytes[i] = static_cast<char>((length >> (8 * i)) & 0xff);
  return bytes + header + data;
}

std::string parseError(const std::string &bytes) {
  auto file = SafeTensorsFile::parse(
      llvm::MemoryBuffer::getMemBufferCopy(bytes, "test.safetensors"), "test.safetensors");
  EXPECT_FALSE(static_cast<bool>(file)) << "expected a validation error";
  return errorText(file);
}

constexpr const char *kTwoTensors =
    R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
        "b": {"dtype": "BF16", "shape": [2, 2], "data_offsets": [8, 16]}})";

} // namespace

TEST(SafeTensors, ValidFileParses) {
  auto file = SafeTensorsFile::parse(
      llvm::MemoryBuffer::getMemBufferCopy(image(kTwoTensors, std::string(16, 'x')), "ok"), "ok");
  ASSERT_TRUE(static_cast<bool>(file)) << errorText(file);
  ASSERT_EQ((*file)->tensors().size(), 2u);
  const TensorInfo *b = (*file)->find("b");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->dtype, DType::BF16);
  EXPECT_EQ(b->numElements(), 4);
  EXPECT_EQ((*file)->data(*b).size(), 8u);
}

TEST(SafeTensors, WriterRoundTrips) {
  TempDir dir;
  std::string path = dir.path("w.safetensors");
  std::vector<float> values = {1.5f, -2.0f, 3.25f};
  std::vector<TensorToWrite> tensors;
  tensors.push_back({"x.weight", DType::F32, {3}, [&](llvm::MutableArrayRef<uint8_t> out) {
                       std::memcpy(out.data(), values.data(), out.size());
                     }});
  tensors.push_back({"y", DType::F16, {2, 1}, [](llvm::MutableArrayRef<uint8_t> out) {
                       std::memset(out.data(), 0, out.size());
                     }});
  ASSERT_FALSE(writeSafeTensors(path, tensors, {{"format", "pt"}}));
  auto file = SafeTensorsFile::open(path);
  ASSERT_TRUE(static_cast<bool>(file)) << errorText(file);
  EXPECT_EQ((*file)->metadata().at("format"), "pt");
  const TensorInfo *x = (*file)->find("x.weight");
  ASSERT_TRUE(x);
  float read[3];
  std::memcpy(read, (*file)->data(*x).data(), sizeof(read));
  EXPECT_EQ(read[2], 3.25f);
}

TEST(SafeTensors, CopyIntoMemoryKeepsEveryTensor) {
  std::string data;
  for (int i = 0; i < 16; ++i)
    data.push_back(static_cast<char>(i * 7 + 1));
  auto file = SafeTensorsFile::parse(
      llvm::MemoryBuffer::getMemBufferCopy(image(kTwoTensors, data), "copy"), "copy");
  ASSERT_TRUE(static_cast<bool>(file)) << errorText(file);
  const uint8_t *mapped = (*file)->data(*(*file)->find("a")).data();
  ASSERT_FALSE(static_cast<bool>((*file)->copyIntoMemory()));
  // Twice is once.
  ASSERT_FALSE(static_cast<bool>((*file)->copyIntoMemory()));
  llvm::ArrayRef<uint8_t> a = (*file)->data(*(*file)->find("a"));
  llvm::ArrayRef<uint8_t> b = (*file)->data(*(*file)->find("b"));
  EXPECT_NE(a.data(), mapped);
  // The copy starts on a huge-page boundary, so the kernel can back it with huge pages.
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a.data()) % (2 << 20), 0u);
  EXPECT_EQ(std::string(a.begin(), a.end()) + std::string(b.begin(), b.end()), data);
  EXPECT_EQ((*file)->find("b")->shape.size(), 2u);
}

TEST(SafeTensors, TruncatedFiles) {
  EXPECT_NE(parseError("abc").find("too small for the 8-byte header length"), std::string::npos);
  std::string full = image(kTwoTensors, std::string(16, 'x'));
  EXPECT_NE(parseError(full.substr(0, 20)).find("runs past the end"), std::string::npos);
  std::string shortData = parseError(full.substr(0, full.size() - 4));
  EXPECT_NE(shortData.find("tensors cover 16 bytes but the data section has 12 bytes"),
            std::string::npos)
      << shortData;
}

TEST(SafeTensors, OversizedHeader) {
  std::string message = parseError(image("{}", "", 200'000'000));
  EXPECT_NE(message.find("exceeds the limit of 100000000 bytes"), std::string::npos) << message;
}

TEST(SafeTensors, HeaderMustBeJsonObject) {
  EXPECT_NE(parseError(image("[1]", "")).find("does not start with '{'"), std::string::npos);
  EXPECT_NE(parseError(image("{\"a\": ", "")).find("not valid JSON"), std::string::npos);
  EXPECT_NE(parseError(image("{\"a\": \"\xff\"}", "")).find("not valid UTF-8"), std::string::npos);
  EXPECT_NE(parseError(image(R"({"a": 3})", "")).find("entry of tensor 'a' is not an object"),
            std::string::npos);
}

TEST(SafeTensors, BadDtypeAndShape) {
  std::string dtype = parseError(
      image(R"({"a": {"dtype": "F8", "shape": [1], "data_offsets": [0, 1]}})", "x"));
  EXPECT_NE(dtype.find("unsupported dtype 'F8'"), std::string::npos) << dtype;
  std::string shape = parseError(
      image(R"({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}})", "xxxx"));
  EXPECT_NE(shape.find("not a non-negative integer"), std::string::npos) << shape;
  std::string overflow = parseError(image(
      R"({"a": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 4]}})",
      "xxxx"));
  EXPECT_NE(overflow.find("overflows"), std::string::npos) << overflow;
}

TEST(SafeTensors, DtypeTimesShapeMustMatchByteLength) {
  std::string message = parseError(
      image(R"({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}})", "xxxxxxxx"));
  EXPECT_NE(message.find("F32 of 3 elements (12 bytes) but its offsets span 8 bytes"),
            std::string::npos)
      << message;
}

TEST(SafeTensors, LyingOffsets) {
  std::string gap = parseError(image(
      R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})", "xxxxxxxx"));
  EXPECT_NE(gap.find("a gap precedes it"), std::string::npos) << gap;
  std::string overlap = parseError(
      image(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
               "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})",
            std::string(12, 'x')));
  EXPECT_NE(overlap.find("overlaps the previous tensor"), std::string::npos) << overlap;
  std::string beyond = parseError(image(
      R"({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}})", "xxxx"));
  EXPECT_NE(beyond.find("tensors cover 16 bytes"), std::string::npos) << beyond;
  std::string backwards = parseError(image(
      R"({"a": {"dtype": "F32", "shape": [0], "data_offsets": [4, 0]}})", "xxxx"));
  EXPECT_NE(backwards.find("ends before it begins"), std::string::npos) << backwards;
}

TEST(SafeTensors, DuplicateNames) {
  std::string message = parseError(
      image(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
               "a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})",
            "xxxxxxxx"));
  EXPECT_NE(message.find("tensor 'a' appears twice"), std::string::npos) << message;
}

TEST(SafeTensors, ShardedCheckpoint) {
  TempDir dir;
  auto writeOne = [&](const std::string &file, const std::string &name) {
    std::vector<TensorToWrite> tensors;
    tensors.push_back({name, DType::F32, {2}, [](llvm::MutableArrayRef<uint8_t> out) {
                         std::memset(out.data(), 0, out.size());
                       }});
    ASSERT_FALSE(writeSafeTensors(dir.path(file), tensors, {}));
  };
  writeOne("model-00001-of-00002.safetensors", "a");
  writeOne("model-00002-of-00002.safetensors", "b");
  dir.write("model.safetensors.index.json",
            R"({"metadata": {"total_size": 16}, "weight_map": {
                "a": "model-00001-of-00002.safetensors",
                "b": "model-00002-of-00002.safetensors"}})");
  auto checkpoint = Checkpoint::open(dir.str());
  ASSERT_TRUE(static_cast<bool>(checkpoint)) << errorText(checkpoint);
  EXPECT_EQ((*checkpoint)->tensors().size(), 2u);
  EXPECT_EQ((*checkpoint)->totalBytes(), 16u);

  dir.write("model.safetensors.index.json",
            R"({"weight_map": {"a": "model-00001-of-00002.safetensors",
                               "b": "model-00001-of-00002.safetensors"}})");
  std::string wrongFile = errorText(Checkpoint::open(dir.str()));
  EXPECT_NE(wrongFile.find("'b' is listed in model.safetensors.index.json"), std::string::npos)
      << wrongFile;
  dir.write("model.safetensors.index.json",
            R"({"weight_map": {"a": "model-00001-of-00002.safetensors",
                               "b": "model-00003-of-00002.safetensors"}})");
  std::string missingFile = errorText(Checkpoint::open(dir.str()));
  EXPECT_NE(missingFile.find("model-00003-of-00002.safetensors"), std::string::npos)
      << missingFile;
}
