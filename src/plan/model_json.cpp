#include "awf/base/platform.hpp"

#include "awf/plan/model_json.hpp"

#include "awf/plan/nft_text.hpp"

namespace awf {

using nlohmann::json;

namespace {

std::string hex(const model::Bytes& b) {
    static const char* d = "0123456789abcdef";
    std::string s;
    for (uint8_t c : b) {
        s += d[c >> 4];
        s += d[c & 15];
    }
    return s;
}

} // namespace

json to_json(const model::Table& t) {
    json j;
    j["family"] = t.family;
    j["name"] = t.name;
    j["comment"] = t.comment;
    j["sets"] = json::array();
    for (const auto& s : t.sets) {
        json js;
        js["name"] = s.name;
        js["interval"] = s.interval;
        static const char* names[] = {"ipv4_addr", "ipv6_addr", "inet_proto", "inet_service"};
        js["type"] = json::array();
        for (auto k : s.key)
            js["type"].push_back(names[static_cast<int>(k)]);
        js["elements"] = json::array();
        for (const auto& el : s.elements) {
            json je = json::array();
            for (const auto& f : el)
                je.push_back(json{{"from", hex(f.lo)}, {"to", hex(f.hi)}});
            js["elements"].push_back(je);
        }
        j["sets"].push_back(js);
    }
    j["chains"] = json::array();
    for (const auto& c : t.chains) {
        json jc;
        jc["name"] = c.name;
        jc["type"] = c.type == model::ChainType::nat     ? "nat"
                     : c.type == model::ChainType::route ? "route"
                                                         : "filter";
        static const char* hooks[] = {"input",   "output",      "prerouting",
                                      "forward", "postrouting", ""};
        jc["hook"] = hooks[static_cast<int>(c.hook)];
        jc["priority"] = c.priority;
        jc["policy"] = c.policy == model::VerdictCode::accept ? "accept" : "drop";
        jc["rules"] = json::array();
        for (const auto& r : c.rules) {
            json jr;
            jr["comment"] = r.comment;
            jr["nft"] = rule_text(model::Rule{r.stmts, {}, r.raw});
            for (const auto& st : r.stmts)
                if (auto* cnt = std::get_if<model::Counter>(&st))
                    jr["counter"] = {{"packets", cnt->packets}, {"bytes", cnt->bytes}};
            jc["rules"].push_back(jr);
        }
        j["chains"].push_back(jc);
    }
    return j;
}

} // namespace awf
