#include <catch2/catch.hpp>

#include <cstdio>
#include <random>
#include <string>

#include "common/error.hpp"
#include "io/json.hpp"

#ifndef SWU_GOLDEN_DIR
#define SWU_GOLDEN_DIR "/work/shared/golden"
#endif

using swu::json::parse;
using swu::json::Value;

namespace {

// The message of the swu::Error that `f` throws, after checking its status.
template <class F>
std::string error_of(F&& f, swu_status want = SWU_ERR_FORMAT) {
    try {
        f();
    } catch (const swu::Error& e) {
        CHECK(e.status() == want);
        return e.what();
    }
    FAIL("no swu::Error was thrown");
    return {};
}

}  // namespace

TEST_CASE("json: scalars and containers", "[unit][json]") {
    CHECK(parse("null").is_null());
    CHECK(parse(" true ").as_bool());
    CHECK_FALSE(parse("false").as_bool());
    CHECK(parse("\"x\"").as_string() == "x");
    CHECK(parse("[]").elements().empty());
    CHECK(parse("{}").members().empty());
    const Value v = parse(R"({"b": [1, 2.5, {"c": null}], "a": "s", "z": false})");
    REQUIRE(v.is_object());
    const auto members = v.members();
    REQUIRE(members.size() == 3);
    CHECK(members[0].first == "b");  // file order, not sorted
    CHECK(members[1].first == "a");
    CHECK(v.at("b").at(size_t(1)).as_number() == 2.5);
    CHECK(v.at("b").at(size_t(2)).at("c").is_null());
    CHECK_FALSE(v.find("missing").has_value());
    CHECK(v.find("a")->as_string() == "s");
    CHECK(v.size() == 3);
    CHECK(error_of([&] { v.at("nope"); }).find("missing key 'nope'") != std::string::npos);
    CHECK(error_of([&] { v.at("b").at(size_t(3)); }).find("out of range") != std::string::npos);
    CHECK(error_of([&] { v.at("a").as_number(); }).find("expected number, found string") != std::string::npos);
    CHECK(error_of([&] { v.at("a").at("x"); }).find("key 'x' in a string") != std::string::npos);
    CHECK(error_of([&] { v.at("b").members(); }).find("expected object, found array") != std::string::npos);
}

TEST_CASE("json: a view outlives the document it came from", "[unit][json]") {
    Value inner = parse("null");
    {
        const Value doc = parse(R"({"a": {"b": [7, "long enough to live on the heap, not in the string"]}})");
        inner = doc.at("a").at("b");
    }
    CHECK(inner.at(size_t(0)).as_number() == 7);
    CHECK(inner.at(size_t(1)).as_string().size() > 40);
}

TEST_CASE("json: a key given twice is refused", "[unit][json]") {
    CHECK(error_of([] { parse(R"({"a": 1, "a": 2})"); }).find("'a' given twice") != std::string::npos);
    CHECK(error_of([] { parse(R"([{"x": {"a": 1}, "y": {"a": 2, "a": 3}}])"); }).find("'a' given twice") != std::string::npos);
    CHECK(parse(R"({"a": {"a": 1}, "b": {"a": 2}})").at("b").at("a").as_number() == 2);  // other objects: fine
}

TEST_CASE("json: numbers are exact and locale-independent", "[unit][json]") {
    CHECK(parse("0").as_number() == 0.0);
    CHECK(parse("-12").as_number() == -12.0);
    CHECK(parse("0.1").as_number() == 0.1);
    CHECK(parse("1E3").as_number() == 1000.0);
    CHECK(parse("2.5e-3").as_number() == 2.5e-3);
    CHECK(parse("-0.7347739934921265").as_number() == -0.7347739934921265);
    CHECK(parse("9007199254740993").as_number() == 9007199254740992.0);
    CHECK(parse("18446744073709551615").as_number() == 18446744073709551615.0);
    CHECK(parse("5e-324").as_number() == 5e-324);
    CHECK(parse("1e-400").as_number() == 0.0);
    for (const char* bad : {"01", "-", "1.", ".5", "1e", "+1", "NaN", "Infinity", "0x10", "1e400", "-1e400"})
        CHECK(error_of([&] { parse(bad); }).rfind("JSON: ", 0) == 0);
}

TEST_CASE("json: strings, escapes and UTF-8", "[unit][json]") {
    CHECK(parse(R"("a\"b\\c\/d\b\f\n\r\t")").as_string() == "a\"b\\c/d\b\f\n\r\t");
    CHECK(parse(R"("\u00e9\u20AC")").as_string() == "\xc3\xa9\xe2\x82\xac");
    CHECK(parse(R"("\ud83d\ude00")").as_string() == "\xf0\x9f\x98\x80");  // surrogate pair
    CHECK(parse("\"\xf0\x9f\x98\x80\"").as_string() == "\xf0\x9f\x98\x80");
    // Refused: lone or misordered surrogates, bad escapes, raw control characters,
    // overlong / surrogate / truncated UTF-8, an unterminated string.
    for (const char* bad : {R"("\ud83d")", R"("\ude00")", R"("\ud83d\u0041")", R"("\x")", R"("\u12G4")", "\"a\nb\"",
                            "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xe2\x82\"", "\"abc"})
        CHECK(error_of([&] { parse(bad); }).rfind("JSON: ", 0) == 0);
}

TEST_CASE("json: syntax errors name the position", "[unit][json]") {
    CHECK(error_of([] { parse(""); }).find("end of input") != std::string::npos);
    CHECK(error_of([] { parse("[1,]"); }).find("line 1, column 4") != std::string::npos);
    CHECK(error_of([] { parse("{\"a\":1,\n}"); }).find("line 2, column 1") != std::string::npos);
    CHECK(error_of([] { parse("{\"a\" 1}"); }).find("':'") != std::string::npos);
    CHECK(error_of([] { parse("{1:2}"); }).find("string literal") != std::string::npos);
    CHECK(error_of([] { parse("[1] x"); }).find("end of input") != std::string::npos);  // trailing characters
    CHECK(error_of([] { parse("// c\n1"); }).find("column 1") != std::string::npos);  // no comments
    CHECK(error_of([] { parse("tru"); }).find("literal") != std::string::npos);
}

TEST_CASE("json: nesting is limited, not a stack overflow", "[unit][json]") {
    const std::string ok = std::string(256, '[') + std::string(256, ']');
    CHECK(parse(ok).is_array());
    const std::string deep = std::string(257, '[') + std::string(257, ']');
    CHECK(error_of([&] { parse(deep); }).find("nesting") != std::string::npos);
    const std::string hostile(1000000, '[');
    CHECK(error_of([&] { parse(hostile); }).find("nesting") != std::string::npos);
    std::string objects;
    for (int i = 0; i < 100000; ++i) objects += "{\"a\":";
    CHECK(error_of([&] { parse(objects); }).find("nesting") != std::string::npos);
}

TEST_CASE("json: the number of values is limited", "[unit][json]") {
    std::string many = "[0";
    for (int i = 0; i < (4 << 20); ++i) many += ",0";
    CHECK(error_of([&] { parse(many + "]"); }).find("more than 4194304 values") != std::string::npos);
    CHECK(parse(many.substr(0, many.size() - 2) + "]").size() == size_t(4) << 20);
}

TEST_CASE("json: random and mutated input never crashes", "[unit][json]") {
    std::mt19937 rng(7);
    const std::string seed_doc = R"({"a": [1, -2.5e3, "x\u00e9\ud83d\ude00", {"b": null, "c": [true, false]}], "d": {}})";
    REQUIRE(parse(seed_doc).is_object());
    const std::string alphabet = "{}[]\",:\\u0123456789eE+-.tfnrl \x01\xc3\xa9\xff";
    for (int iter = 0; iter < 3000; ++iter) {
        std::string s = seed_doc;
        const int edits = 1 + int(rng() % 4);
        for (int k = 0; k < edits; ++k) {
            const size_t at = rng() % (s.size() + 1);
            switch (rng() % 3) {
                case 0: if (at < s.size()) s[at] = alphabet[rng() % alphabet.size()]; break;
                case 1: s.insert(at, 1, alphabet[rng() % alphabet.size()]); break;
                default: s.erase(at, 1 + rng() % 4); break;
            }
        }
        try {
            parse(s);
        } catch (const swu::Error& e) {
            REQUIRE(e.status() == SWU_ERR_FORMAT);
        }
    }
}

TEST_CASE("json: files", "[unit][json]") {
    const std::string missing = "/nonexistent/dir/file.json";
    const std::string msg = error_of([&] { swu::json::parse_file(missing); }, SWU_ERR_IO);
    CHECK(msg.rfind(missing, 0) == 0);

    const std::string bad_path = "/tmp/swu_test_json_bad.json";
    if (FILE* f = std::fopen(bad_path.c_str(), "wb")) {
        std::fputs("{\"a\": [1, 2,]}", f);
        std::fclose(f);
    }
    const std::string bad = error_of([&] { swu::json::parse_file(bad_path); });
    CHECK(bad.rfind(bad_path + ": JSON: ", 0) == 0);
    CHECK(bad.find("line 1, column 13") != std::string::npos);  // the "]" after "2,"
    std::remove(bad_path.c_str());

    const Value golden = swu::json::parse_file(std::string(SWU_GOLDEN_DIR) + "/net_f12/case.json");
    CHECK(golden.is_object());
    CHECK(golden.size() > 0);
}
