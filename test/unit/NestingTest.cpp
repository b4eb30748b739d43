//===- NestingTest.cpp - Finding input that nests too deep for a recursive parser -===//

#include "vgcu/Support/Nesting.h"

#include <gtest/gtest.h>

#include <string>

using namespace vgcu;

namespace {

TEST(NestingTest, CountsEveryMlirBracketKind) {
  EXPECT_FALSE(findExcessiveNesting("f([{<x>}])", 4, NestingSyntax::Mlir));
  auto where = findExcessiveNesting("f([{<(x)>}])", 4, NestingSyntax::Mlir);
  ASSERT_TRUE(where);
  EXPECT_EQ(where->line, 1u);
  EXPECT_EQ(where->column, 6u);
}

TEST(NestingTest, ArrowsCommentsAndStringsDoNotCount) {
  std::string text = "(a) -> (b) -> (c) -> (d)\n"
                     "// (((((((((((\n"
                     "\"((((((((\\\"((((\" [x]\n";
  EXPECT_FALSE(findExcessiveNesting(text, 1, NestingSyntax::Mlir));
}

TEST(NestingTest, JsonCountsOnlyArraysAndObjects) {
  EXPECT_FALSE(findExcessiveNesting("{\"a\": \"((((<<<<\", \"b\": [1]}", 2, NestingSyntax::Json));
  auto where = findExcessiveNesting("{\n\"a\": [[1]]}", 2, NestingSyntax::Json);
  ASSERT_TRUE(where);
  EXPECT_EQ(where->line, 2u);
  EXPECT_EQ(where->column, 7u);
}

TEST(NestingTest, FindsTheFirstPlaceAcrossLines) {
  std::string text = std::string(3, '(') + "\n" + std::string(3, '[');
  auto where = findExcessiveNesting(text, 5, NestingSyntax::Mlir);
  ASSERT_TRUE(where);
  EXPECT_EQ(where->line, 2u);
  EXPECT_EQ(where->column, 3u);
}

TEST(NestingTest, AnUnterminatedStringEndsAtTheLine) {
  EXPECT_TRUE(findExcessiveNesting("\"open\n((", 1, NestingSyntax::Mlir));
}

} // namespace
