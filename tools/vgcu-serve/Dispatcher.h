//===- Dispatcher.h - What the engine loop and the HTTP handlers exchange ------------===//
#ifndef VGCU_TOOLS_VGCU_SERVE_DISPATCHER_H
#define VGCU_TOOLS_VGCU_SERVE_DISPATCHER_H

#include "vgcu/Runtime/Engine.h"

#include "llvm/Support/JSON.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace vgcu::serve {

/// What a handler hears about its request.
struct Event {
  enum Kind { Tokens, Finished, Rejected } kind = Tokens;
  std::vector<int64_t> tokens;
  runtime::FinishReason reason = runtime::FinishReason::none;
  std::string error;
};

/// One request's events, from the engine thread to its handler thread.
class Channel {
public:
  void push(Event event);
  /// The next event, or nothing after `timeout`.
  std::optional<Event> pop(std::chrono::milliseconds timeout);

private:
  std::mutex mutex;
  std::condition_variable ready;
  std::deque<Event> events;
};

/// Rank 0's side of the engine loop: requests in, outputs out, and the drain at SIGTERM.
class Dispatcher {
public:
  /// Queues a request for the next step; false while draining.
  bool submit(const runtime::GenerationRequest &request, std::shared_ptr<Channel> channel);
  void abort(const std::string &id);
  void beginDrain();
  bool isDraining();

  /// The control message of the next step (JSON): new requests, aborts, and whether to end.
  /// Waits up to `idle` for work when the engine has none.
  std::string takeControl(bool engineBusy, std::chrono::milliseconds idle);
  /// A request the engine refused: its handler answers with `message`.
  void reject(const std::string &id, std::string message);
  /// What a step gave each request, to its handler.
  void deliver(std::vector<runtime::RequestOutput> &outputs);

private:
  std::shared_ptr<Channel> take(const std::string &id);

  std::mutex mutex;
  std::condition_variable work;
  std::vector<llvm::json::Value> adds;
  std::vector<std::string> aborts;
  std::map<std::string, std::shared_ptr<Channel>> channels;
  bool draining = false;
};

} // namespace vgcu::serve

#endif // VGCU_TOOLS_VGCU_SERVE_DISPATCHER_H
