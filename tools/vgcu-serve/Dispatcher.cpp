//===- Dispatcher.cpp - What the engine loop and the HTTP handlers exchange ----------===//

#include "Dispatcher.h"

#include "../vgcu-run/Requests.h"

using namespace vgcu;
using namespace vgcu::runtime;
using namespace vgcu::serve;

void Channel::push(Event event) {
  {
    std::lock_guard<std::mutex> lock(mutex);
    events.push_back(std::move(event));
  }
  ready.notify_one();
}

std::optional<Event> Channel::pop(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex);
  if (!ready.wait_for(lock, timeout, [&] { return !events.empty(); }))
    return std::nullopt;
  Event event = std::move(events.front());
  events.pop_front();
  return event;
}

bool Dispatcher::submit(const GenerationRequest &request, std::shared_ptr<Channel> channel) {
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (draining)
      return false;
    channels[request.id] = std::move(channel);
    adds.push_back(requestToJson(request));
  }
  work.notify_one();
  return true;
}

void Dispatcher::abort(const std::string &id) {
  {
    std::lock_guard<std::mutex> lock(mutex);
    aborts.push_back(id);
  }
  work.notify_one();
}

void Dispatcher::beginDrain() {
  {
    std::lock_guard<std::mutex> lock(mutex);
    draining = true;
  }
  work.notify_one();
}

bool Dispatcher::isDraining() {
  std::lock_guard<std::mutex> lock(mutex);
  return draining;
}

std::string Dispatcher::takeControl(bool engineBusy, std::chrono::milliseconds idle) {
  std::unique_lock<std::mutex> lock(mutex);
  auto hasWork = [&] {
    return !adds.empty() || !aborts.empty() || (draining && channels.empty());
  };
  if (!engineBusy)
    work.wait_for(lock, idle, hasWork);
  if (!hasWork())
    return std::string();
  llvm::json::Object control;
  if (!adds.empty())
    control["add"] = llvm::json::Array(std::move(adds));
  if (!aborts.empty())
    control["abort"] =
        llvm::json::Array(std::vector<llvm::json::Value>(aborts.begin(), aborts.end()));
  adds.clear();
  aborts.clear();
  if (draining && channels.empty())
    control["shutdown"] = true;
  std::string text;
  llvm::raw_string_ostream(text) << llvm::json::Value(std::move(control));
  return text;
}

void Dispatcher::reject(const std::string &id, std::string message) {
  std::shared_ptr<Channel> channel = take(id);
  if (channel) {
    Event event;
    event.kind = Event::Rejected;
    event.error = std::move(message);
    channel->push(std::move(event));
  }
}

void Dispatcher::deliver(std::vector<RequestOutput> &outputs) {
  for (RequestOutput &output : outputs) {
    std::shared_ptr<Channel> channel;
    {
      std::lock_guard<std::mutex> lock(mutex);
      auto it = channels.find(output.id);
      if (it == channels.end())
        continue;
      channel = it->second;
      if (output.finished())
        channels.erase(it);
    }
    if (!output.newTokens.empty()) {
      Event event;
      event.tokens = std::move(output.newTokens);
      channel->push(std::move(event));
    }
    if (output.finished()) {
      Event event;
      event.kind = Event::Finished;
      event.reason = output.finishReason;
      channel->push(std::move(event));
    }
  }
  // Draining: the last request's end may be what the loop waits for.
  work.notify_one();
}

std::shared_ptr<Channel> Dispatcher::take(const std::string &id) {
  std::lock_guard<std::mutex> lock(mutex);
  auto it = channels.find(id);
  if (it == channels.end())
    return nullptr;
  std::shared_ptr<Channel> channel = it->second;
  channels.erase(it);
  return channel;
}
