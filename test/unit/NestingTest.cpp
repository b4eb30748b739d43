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

TEST(NestingTest, AnUnterminatedStringEndsAtTheLine) {
  EXPECT_TRUE(findExcessiveNesting("\"open\n((", 1, NestingSyntax::Mlir));
}

} // namespace
