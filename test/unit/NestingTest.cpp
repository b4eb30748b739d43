//===- NestingTest.cpp - Finding input that nests too deep for a recursive parser -===//

#include "vgcu/Support/Nesting.h"

#include <gtest/gtest.h>

#include <string>

using namespace vgcu;

namespace {

void expectTooDeepAt(const std::string &text, unsigned maxDepth, NestingSyntax syntax,
                     unsigned line, unsigned column) {
  auto where = findExcessiveNesting(text, maxDepth, syntax);
  ASSERT_TRUE(where) << text;
  EXPECT_EQ(where->line, line) << text;
  EXPECT_EQ(where->column, column) << text;
}

TEST(NestingTest, CountsEveryMlirBracketKind) {
  EXPECT_FALSE(findExcessiveNesting("f([{<x>}])", 4, NestingSyntax::Mlir));
  expectTooDeepAt("f([{<(x)>}])", 4, NestingSyntax::Mlir, 1, 6);
}

TEST(NestingTest, ArrowsCommentsAndStringsDoNotCount) {
  std::string text = "(a) -> (b) -> (c) -> (d)\n"
                     "// (((((((((((\n"
                     "\"((((((((\\\"((((\" [x]\n";
  EXPECT_FALSE(findExcessiveNesting(text, 1, NestingSyntax::Mlir));
}

TEST(NestingTest, JsonCountsOnlyArraysAndObjects) {
  EXPECT_FALSE(findExcessiveNesting("{\"a\": \"((((<<<<\", \"b\": [1]}", 2, NestingSyntax::Json));
  expectTooDeepAt("{\n\"a\": [[1]]}", 2, NestingSyntax::Json, 2, 7);
}

TEST(NestingTest, FindsTheFirstPlaceAcrossLines) {
  expectTooDeepAt(std::string(3, '(') + "\n" + std::string(3, '['), 5, NestingSyntax::Mlir, 2, 3);
}

TEST(NestingTest, ComparisonsDoNotCloseOtherBrackets) {
  // `>=` must not step out of the `[`, or alternating the two would nest without limit.
  expectTooDeepAt("[[affine_set<(d0) : (d0 >= 0, d0 >= 0)>, [[(", 4, NestingSyntax::Mlir, 1, 44);
  // A `<` left open by a comparison is dropped at the closer of what holds it.
  EXPECT_FALSE(findExcessiveNesting("{x = (a < b)} {y = ((c))}", 3, NestingSyntax::Mlir));
  EXPECT_FALSE(findExcessiveNesting("[(a) -> (b)] [(c) -> (d)]", 2, NestingSyntax::Mlir));
}

TEST(NestingTest, AnEscapedLineBreakStillCountsAsALine) {
  expectTooDeepAt("\"a\\\n((", 1, NestingSyntax::Mlir, 2, 2);
}

TEST(NestingTest, AnUnterminatedStringEndsAtTheLine) {
  EXPECT_TRUE(findExcessiveNesting("\"open\n((", 1, NestingSyntax::Mlir));
}

} // namespace
