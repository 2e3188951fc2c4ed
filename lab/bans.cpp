#include "lab/bans.hpp"

#include "logic/wire_faults.hpp"

#include <algorithm>
#include <cmath>

namespace actorrent::lab {

std::string wire_fault_arg(const resolved_plan& rp, std::size_t peer) {
  const auto& g = rp.spec.groups[rp.peers[peer].group];
  if (g.behavior.empty())
    return {};
  std::vector<std::pair<std::string, std::string>> kv;
  for (auto& b : g.behavior)
    kv.emplace_back(b.key, b.value);
  return logic::wire_fault_spec_string(kv, rp.spec.seed, rp.peers[peer].name);
}

bool sends_bad_data(const resolved_plan& rp, std::size_t peer) {
  for (auto& b : rp.spec.groups[rp.peers[peer].group].behavior)
    for (auto w : logic::all_wire_behaviors())
      if (logic::to_string(w) == b.key && logic::sends_bad_data(w))
        return true;
  return false;
}

std::string address_host(const std::string& address) {
  if (!address.empty() && address.front() == '[') {
    auto close = address.find(']');
    return close == std::string::npos ? address : address.substr(1, close - 1);
  }
  auto colon = address.rfind(':');
  if (colon == std::string::npos || address.find(':') != colon)
    return address; // no port, or a bare IPv6 address
  return address.substr(0, colon);
}

ban_analysis analyse_bans(const resolved_plan& rp, const std::vector<ban_report>& reports) {
  ban_analysis a;
  const auto n = rp.peers.size();
  a.banned_peers.resize(n);
  a.known.assign(n, false);
  auto peer_at = [&](const std::string& address) -> std::optional<std::size_t> {
    auto host = address_host(address);
    for (std::size_t i = 0; i < n; ++i)
      if (rp.peers[i].address == host)
        return i;
    return std::nullopt;
  };
  auto add = [](std::string& detail, const std::string& s) { detail += (detail.empty() ? "" : "; ") + s; };
  // who each peer banned, by name (each ban's peer index, if a lab peer has the address)
  std::vector<std::vector<std::optional<std::size_t>>> who(n);
  for (std::size_t i = 0; i < n && i < reports.size(); ++i) {
    if (!reports[i].banned)
      continue;
    a.known[i] = true;
    for (auto& addr : *reports[i].banned) {
      auto w = peer_at(addr);
      auto name = w ? rp.peers[*w].name : addr;
      auto& list = a.banned_peers[i];
      if (std::find(list.begin(), list.end(), name) != list.end())
        continue; // the same peer under another port (it dialled us and we it)
      list.push_back(name);
      who[i].push_back(w);
    }
  }
  std::size_t bans = 0, right = 0, pairs = 0, caught = 0;
  for (std::size_t h = 0; h < n; ++h) {
    const auto& hp = rp.peers[h];
    if (!hp.honest || hp.kind != peer_kind::actorrent)
      continue;
    if (!a.known[h]) {
      // a peer that never reported cannot be judged: say so rather than pass it
      add(a.no_honest_detail, hp.name + " reported no ban list");
      a.no_honest_banned = false;
      continue;
    }
    for (std::size_t k = 0; k < who[h].size(); ++k) {
      ++bans;
      if (who[h][k] && !rp.peers[*who[h][k]].honest) {
        ++right;
      } else {
        a.no_honest_banned = false;
        add(a.no_honest_detail, hp.name + " banned " + a.banned_peers[h][k]
                                  + (who[h][k] ? " (honest)" : " (no lab peer has that address)"));
      }
    }
  }
  // every liar that sent bad data to an honest actorrent peer is banned by it
  for (std::size_t m = 0; m < n; ++m) {
    if (rp.peers[m].honest || !sends_bad_data(rp, m))
      continue;
    std::size_t victims = 0, unused = 0;
    for (std::size_t h = 0; h < n && h < reports.size(); ++h) {
      const auto& hp = rp.peers[h];
      if (!hp.honest || hp.kind != peer_kind::actorrent)
        continue;
      std::uint64_t failed = 0;
      for (auto& [addr, k] : reports[h].failed_from)
        if (auto w = peer_at(addr); w && *w == m)
          failed += k;
      if (failed == 0) {
        if (m < reports.size())
          for (auto& [addr, blocks] : reports[m].corrupted_to)
            if (auto w = peer_at(addr); w && *w == h && blocks > 0)
              ++unused; // it got corrupted blocks but never hashed them (duplicates, cancelled)
        continue;
      }
      ++victims;
      ++pairs;
      const auto& list = who[h];
      if (std::find(list.begin(), list.end(), std::optional<std::size_t>{m}) != list.end()) {
        ++caught;
      } else {
        a.misbehaving_banned = false;
        add(a.misbehaving_detail, hp.name + " did not ban " + rp.peers[m].name + " (" + std::to_string(failed)
                                    + " failed pieces had its blocks)");
      }
    }
    if (victims == 0)
      add(a.misbehaving_detail, rp.peers[m].name + " fed no honest actorrent peer a piece that failed");
    if (unused > 0)
      add(a.misbehaving_detail, rp.peers[m].name + " sent corrupted blocks to " + std::to_string(unused)
                                  + " more honest peers that never hashed them");
  }
  auto ratio = [](std::size_t x, std::size_t y) -> std::optional<double> {
    if (y == 0)
      return std::nullopt;
    return std::round(1e4 * static_cast<double>(x) / static_cast<double>(y)) / 1e4;
  };
  a.precision = ratio(right, bans);
  a.recall = ratio(caught, pairs);
  if (a.misbehaving_banned && pairs > 0)
    add(a.misbehaving_detail, std::to_string(caught) + " of " + std::to_string(pairs) + " (victim, liar) pairs banned");
  if (a.no_honest_banned)
    add(a.no_honest_detail, std::to_string(bans) + " bans by honest actorrent peers, none of an honest peer");
  return a;
}

} // namespace actorrent::lab
