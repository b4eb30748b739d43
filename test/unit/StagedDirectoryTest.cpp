//===- StagedDirectoryTest.cpp - Outputs that appear whole, replace only what they may --===//

#include "TestUtil.h"

#include "vgcu/Support/CheckedMath.h"
#include "vgcu/Support/InputFiles.h"

#include <sys/stat.h>
#include <unistd.h>

using namespace vgcu;
using namespace vgcu::test;

namespace {

StagingOptions replacing(std::vector<std::string> inputs = {}) {
  StagingOptions options;
  options.overwrite = true;
  options.isReplaceable = [](llvm::StringRef directory) {
    return llvm::sys::fs::exists(directory + "/MARKER");
  };
  options.replaceableKind = "marked directory";
  options.protectedInputs = std::move(inputs);
  return options;
}

std::string readAll(const std::string &path) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  return buffer ? (*buffer)->getBuffer().str() : std::string("<missing>");
}

TEST(StagedDirectoryTest, CommitMovesTheWholeDirectoryIntoPlace) {
  TempDir dir;
  auto staged = StagedDirectory::create(dir.path("out"), StagingOptions{});
  ASSERT_TRUE(!!staged) << errorText(staged);
  dir.write(llvm::sys::path::filename(staged->path()).str() + "/file", "new");
  EXPECT_FALSE(llvm::sys::fs::exists(dir.path("out")));
  ASSERT_EQ(errorText(staged->commit()), "");
  EXPECT_EQ(readAll(dir.path("out/file")), "new");
}

TEST(StagedDirectoryTest, AbandonedStagingIsRemoved) {
  TempDir dir;
  std::string staging;
  {
    auto staged = StagedDirectory::create(dir.path("out"), StagingOptions{});
    ASSERT_TRUE(!!staged) << errorText(staged);
    staging = staged->path().str();
    EXPECT_TRUE(llvm::sys::fs::is_directory(staging));
  }
  EXPECT_FALSE(llvm::sys::fs::exists(staging));
  EXPECT_FALSE(llvm::sys::fs::exists(dir.path("out")));
}

TEST(StagedDirectoryTest, ReplacesOnlyWhatIsReplaceable) {
  TempDir dir;
  dir.write("old/MARKER", "");
  dir.write("old/file", "old");
  auto staged = StagedDirectory::create(dir.path("old"), replacing());
  ASSERT_TRUE(!!staged) << errorText(staged);
  dir.write(llvm::sys::path::filename(staged->path()).str() + "/file", "new");
  ASSERT_EQ(errorText(staged->commit()), "");
  EXPECT_EQ(readAll(dir.path("old/file")), "new");
  std::error_code ec;
  int entries = 0;
  for (llvm::sys::fs::directory_iterator it(dir.str(), ec), end; it != end && !ec;
       it.increment(ec))
    ++entries;
  EXPECT_EQ(entries, 1) << "the old directory was left somewhere";

  dir.write("plain/file", "keep");
  EXPECT_NE(errorText(StagedDirectory::create(dir.path("plain"), replacing()))
                .find("exists and is not a marked directory"),
            std::string::npos);
  EXPECT_EQ(readAll(dir.path("plain/file")), "keep");
  auto withoutForce = StagingOptions{};
  EXPECT_NE(errorText(StagedDirectory::create(dir.path("old"), withoutForce))
                .find("already exists (pass --force to replace it)"),
            std::string::npos);
}

TEST(StagedDirectoryTest, NeverFollowsALink) {
  TempDir dir;
  dir.write("target/MARKER", "");
  dir.write("target/file", "keep");
  ASSERT_EQ(::symlink(dir.path("target").c_str(), dir.path("link").c_str()), 0);
  EXPECT_NE(errorText(StagedDirectory::create(dir.path("link"), replacing()))
                .find("is a symbolic link"),
            std::string::npos);
  EXPECT_EQ(readAll(dir.path("target/file")), "keep");
}

TEST(StagedDirectoryTest, NeverReplacesAnInput) {
  TempDir dir;
  dir.write("model/MARKER", "");
  dir.write("model/config.json", "{}");
  EXPECT_NE(errorText(StagedDirectory::create(dir.path("model"),
                                               replacing({dir.path("model")})))
                .find("is the input"),
            std::string::npos);
  EXPECT_NE(errorText(StagedDirectory::create(dir.str(), replacing({dir.path("model")})))
                .find("contains the input"),
            std::string::npos);
  EXPECT_EQ(readAll(dir.path("model/config.json")), "{}");
}

TEST(StagedDirectoryTest, LongNamesStageUnderAShorterName) {
  TempDir dir;
  std::string name(255, 'n');
  auto staged = StagedDirectory::create(dir.path(name), StagingOptions{});
  ASSERT_TRUE(!!staged) << errorText(staged);
  EXPECT_LE(llvm::sys::path::filename(staged->path()).size(), 255u);
  ASSERT_EQ(errorText(staged->commit()), "");
  EXPECT_TRUE(llvm::sys::fs::is_directory(dir.path(name)));
  EXPECT_NE(errorText(StagedDirectory::create(dir.path(std::string(256, 'n')), StagingOptions{}))
                .find("file names may have at most 255"),
            std::string::npos);
}

TEST(InputFilesTest, OnlyRegularFilesAreRead) {
  TempDir dir;
  std::string file = dir.write("config.json", "{}");
  auto buffer = readInputFile(file, "config", 100);
  ASSERT_TRUE(!!buffer) << errorText(buffer);
  EXPECT_EQ((*buffer)->getBuffer(), "{}");
  EXPECT_NE(errorText(readInputFile("/dev/zero", "config")).find("is a character device"),
            std::string::npos);
  EXPECT_NE(errorText(readInputFile(dir.str(), "config")).find("is a directory"),
            std::string::npos);
  ASSERT_EQ(::mkfifo(dir.path("fifo").c_str(), 0600), 0);
  EXPECT_NE(errorText(readInputFile(dir.path("fifo"), "config")).find("is a FIFO"),
            std::string::npos);
  EXPECT_NE(errorText(readInputFile(file, "config", 1)).find("more than the limit of 1"),
            std::string::npos);
}

TEST(CheckedMathTest, OverflowIsRemembered) {
  CheckedInt64 size = int64_t(1) << 30;
  EXPECT_EQ((size * size).get(), int64_t(1) << 60);
  EXPECT_FALSE((size * size * 8).get().has_value());
  EXPECT_FALSE((size * size * 8 + 1).get().has_value()) << "overflow is sticky";
  EXPECT_EQ((CheckedInt64(5) - 7).get(), -2);
}

} // namespace
