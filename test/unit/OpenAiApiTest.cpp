//===- OpenAiApiTest.cpp - OpenAI request fields into engine requests; metrics text ---===//

#include "../../tools/vgcu-serve/Metrics.h"
#include "../../tools/vgcu-serve/OpenAiApi.h"

#include <gtest/gtest.h>

using namespace vgcu::serve;

namespace {

ApiRequest parsed(const std::string &body, bool chat = false) {
  auto result = parseApiRequest(body, chat, "tiny");
  if (auto *error = std::get_if<ApiError>(&result)) {
    ADD_FAILURE() << error->body();
    return ApiRequest();
  }
  return std::get<ApiRequest>(result);
}

ApiError refused(const std::string &body, bool chat = false) {
  auto result = parseApiRequest(body, chat, "tiny");
  if (auto *error = std::get_if<ApiError>(&result))
    return *error;
  ADD_FAILURE() << "accepted: " << body;
  return ApiError();
}

TEST(OpenAiApiTest, CompletionFieldsBecomeSampling) {
  ApiRequest request = parsed(R"({"model": "tiny", "prompt": "hi", "max_tokens": 7,
      "temperature": 0, "top_p": 0.5, "top_k": -1, "min_p": 0.1, "seed": 3,
      "stop": ["\n", "END"], "stop_token_ids": [2], "stream": true,
      "stream_options": {"include_usage": true}, "user": "ignored"})");
  EXPECT_EQ(*request.promptText, "hi");
  EXPECT_EQ(request.sampling.maxTokens, 7);
  EXPECT_TRUE(request.maxTokensGiven);
  EXPECT_EQ(request.sampling.temperature, 0.0);
  EXPECT_EQ(request.sampling.topP, 0.5);
  EXPECT_EQ(request.sampling.topK, 0); // -1 is off
  EXPECT_EQ(*request.sampling.seed, 3u);
  EXPECT_EQ(request.stopStrings, (std::vector<std::string>{"\n", "END"}));
  EXPECT_EQ(request.sampling.stopTokenIds, (std::vector<int64_t>{2}));
  EXPECT_TRUE(request.stream && request.includeUsage);
  EXPECT_EQ(parsed(R"({"prompt": [[5, 6]]})").promptIds, (std::vector<int64_t>{5, 6}));
  EXPECT_EQ(parsed(R"({"prompt": ["text"]})").promptText, std::optional<std::string>("text"));
  EXPECT_FALSE(parsed(R"({"prompt": "x", "max_tokens": null})").maxTokensGiven);
  EXPECT_TRUE(parsed(R"({"messages": [{"role": "user", "content": "x"}]})", true).chat);
}

TEST(OpenAiApiTest, BadFieldsAreRefusedWithTheirName) {
  EXPECT_EQ(refused(R"({"prompt": "x", "temperature": "hot"})").param, "temperature");
  EXPECT_EQ(refused(R"({"prompt": "x", "max_tokens": 0})").param, "max_tokens");
  EXPECT_EQ(refused(R"({"prompt": "x", "top_p": 2})").param, "top_p");
  EXPECT_EQ(refused(R"({"prompt": "x", "n": 2})").param, "n");
  EXPECT_EQ(refused(R"({"prompt": "x", "stop": [""]})").param, "stop");
  EXPECT_EQ(refused(R"({"prompt": "x", "presence_penalty": 0.5})").param, "presence_penalty");
  EXPECT_EQ(refused(R"({"prompt": "x", "logprobs": 2})").param, "logprobs");
  EXPECT_EQ(refused(R"({"prompt": ["a", "b"]})").param, "prompt");
  EXPECT_EQ(refused(R"({"messages": "hi"})", true).param, "messages");
  EXPECT_EQ(refused(R"({"messages": [{"content": "no role"}]})", true).param, "messages");
  ApiError model = refused(R"({"prompt": "x", "model": "other"})");
  EXPECT_EQ(model.status, 404);
  ApiError json = refused("{\"prompt\": ");
  EXPECT_EQ(json.status, 400);
  EXPECT_NE(json.body().find("\"type\":\"invalid_request_error\""), std::string::npos);
}

TEST(OpenAiApiTest, MetricsTextFormat) {
  Metrics metrics;
  metrics.finished("stop", 5, 3);
  metrics.timeToFirstToken.observe(0.003);
  metrics.timeToFirstToken.observe(20.0);
  std::string text = metrics.render();
  EXPECT_NE(text.find("vgcu_requests_total{finish_reason=\"stop\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("vgcu_prompt_tokens_total 5\n"), std::string::npos);
  EXPECT_NE(text.find("vgcu_time_to_first_token_seconds_bucket{le=\"0.001\"} 0\n"),
            std::string::npos);
  EXPECT_NE(text.find("vgcu_time_to_first_token_seconds_bucket{le=\"0.005\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("vgcu_time_to_first_token_seconds_bucket{le=\"+Inf\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("vgcu_time_to_first_token_seconds_count 2\n"), std::string::npos);
}

} // namespace
