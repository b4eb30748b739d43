//===- JsonTest.cpp - JSON parsing with a bound on nesting depth ------------------===//

#include "TestUtil.h"

#include "vgcu/Support/Json.h"

#include <string>

using namespace vgcu;
using namespace vgcu::test;

namespace {

std::string nested(unsigned depth) {
  return "{\"x\": " + std::string(depth - 1, '[') + std::string(depth - 1, ']') + "}";
}

TEST(JsonTest, AcceptsNestingUpToTheLimit) {
  auto parsed = parseJson(nested(8), /*maxDepth=*/8);
  ASSERT_TRUE(static_cast<bool>(parsed)) << errorText(parsed);
  EXPECT_TRUE(parsed->getAsObject());
}

TEST(JsonTest, RefusesDeeperNestingWithItsPosition) {
  std::string text = "{\n \"x\": " + std::string(9, '[') + std::string(9, ']') + "}";
  auto parsed = parseJson(text, /*maxDepth=*/8);
  EXPECT_EQ(errorText(parsed), "[2:14] arrays and objects nest more than 8 levels deep");
}

TEST(JsonTest, DoesNotOverflowTheStackOnAMillionLevels) {
  auto parsed = parseJson(nested(1 << 20));
  EXPECT_NE(errorText(parsed).find("nest more than 256 levels deep"), std::string::npos);
}

TEST(JsonTest, BracketsInStringsDoNotCount) {
  std::string text = R"({"a": "[[[[[[[[[[\"[[[[", "b": [1]})";
  auto parsed = parseJson(text, /*maxDepth=*/2);
  ASSERT_TRUE(static_cast<bool>(parsed)) << errorText(parsed);
  EXPECT_EQ(parsed->getAsObject()->getString("a"), "[[[[[[[[[[\"[[[[");
}

TEST(JsonTest, SyntaxErrorsStillComeFromTheParser) {
  auto parsed = parseJson("{\"a\": }");
  EXPECT_FALSE(static_cast<bool>(parsed));
  EXPECT_NE(errorText(parsed).find("[1:7"), std::string::npos) << errorText(parsed);
}

} // namespace
