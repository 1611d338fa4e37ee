// model -> structured JSON for tools (`--print json`, `dump --json`).
#pragma once

#include "awf/plan/model.hpp"

#include <nlohmann/json.hpp>

namespace awf {
nlohmann::json to_json(const model::Table& table);
}
