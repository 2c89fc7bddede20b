#include "checkpoint/pickle_state_dict.hpp"

#include <cstdio>
#include <cstring>
#include <memory>
#include <unordered_map>

#include "common/error.hpp"

namespace swu {

namespace {

// Bounds on what a hostile pickle can make us hold; a real data.pkl stays far below.
constexpr size_t kMaxStack = size_t(1) << 20;
constexpr size_t kMaxMemo = size_t(1) << 20;
constexpr size_t kMaxValues = size_t(1) << 22;  // ~25 per tensor; caps a hostile pickle near 1 GB
constexpr uint32_t kMaxDepth = 1000;
constexpr size_t kMaxTensorRank = 64;

enum class Kind { None, Bool, Int, Float, String, Bytes, Tuple, List, Dict, Global, Storage, Tensor };

const char* kind_name(Kind k) {
    switch (k) {
        case Kind::None: return "None";
        case Kind::Bool: return "bool";
        case Kind::Int: return "int";
        case Kind::Float: return "float";
        case Kind::String: return "str";
        case Kind::Bytes: return "bytes";
        case Kind::Tuple: return "tuple";
        case Kind::List: return "list";
        case Kind::Dict: return "dict";
        case Kind::Global: return "global";
        case Kind::Storage: return "storage";
        case Kind::Tensor: return "tensor";
    }
    return "?";
}

// Values live in the machine's arena and refer to each other by raw pointer, so
// shared (memoised) and even cyclic structures are harmless and destruction is flat.
struct Value {
    Kind kind = Kind::None;
    uint32_t depth = 0;                 // container nesting below this value
    int64_t i = 0;                      // Int, Bool
    double f = 0.0;                     // Float
    std::string s;                      // String, Bytes, Global ("module.name"), Storage key
    std::vector<Value*> items;          // Tuple, List; Dict as key, value, key, value...
    // Dict only: str/int key -> position of that key in items, so SETITEM stays O(1).
    std::unique_ptr<std::unordered_map<std::string, size_t>> dict_index;
    bool is_storage_class = false;      // Global
    DType dtype = DType::Float32;       // Global (storage class), Storage, Tensor
    const Value* storage = nullptr;     // Tensor
    uint64_t numel = 0;                 // Storage
    int64_t offset = 0;                 // Tensor
    std::vector<int64_t> sizes, strides;  // Tensor
};

struct AllowedGlobal {
    const char* name;
    bool is_storage;
    DType dtype;
};

const AllowedGlobal kAllowedGlobals[] = {
    {"collections.OrderedDict", false, DType::Float32},
    {"torch._utils._rebuild_tensor_v2", false, DType::Float32},
    {"torch._utils._rebuild_parameter", false, DType::Float32},
    {"torch._utils._rebuild_parameter_with_state", false, DType::Float32},
    {"_codecs.encode", false, DType::Float32},
    {"torch.FloatStorage", true, DType::Float32},
    {"torch.DoubleStorage", true, DType::Float64},
    {"torch.HalfStorage", true, DType::Float16},
    {"torch.BFloat16Storage", true, DType::BFloat16},
    {"torch.LongStorage", true, DType::Int64},
    {"torch.IntStorage", true, DType::Int32},
    {"torch.ShortStorage", true, DType::Int16},
    {"torch.CharStorage", true, DType::Int8},
    {"torch.ByteStorage", true, DType::UInt8},
    {"torch.BoolStorage", true, DType::Bool},
};

std::string dict_key_of(const Value* k) {
    if (k->kind == Kind::String) return "s" + k->s;
    if (k->kind == Kind::Int || k->kind == Kind::Bool) return "i" + std::to_string(k->i);
    return std::string();  // other key types are kept but not de-duplicated
}

class Machine {
public:
    Machine(const uint8_t* data, size_t size) : p_(data), n_(size) {}

    const Value* run() {
        while (true) {
            op_pos_ = pos_;
            const uint8_t op = u8();
            if (op == '.') {  // STOP
                if (stack_.size() != 1 || !marks_.empty()) error("malformed pickle: STOP with " + std::to_string(stack_.size()) + " values on the stack");
                if (pos_ != n_) error("data after the pickle's STOP opcode");
                return stack_.back();
            }
            step(op);
        }
    }

private:
    const uint8_t* p_;
    size_t n_;
    size_t pos_ = 0;
    size_t op_pos_ = 0;
    std::vector<std::unique_ptr<Value>> arena_;
    std::vector<Value*> stack_;
    std::vector<size_t> marks_;
    std::unordered_map<uint32_t, Value*> memo_;
    std::unordered_map<std::string, Value*> storages_;
    std::unordered_map<const Value*, Value*> encoded_;  // _codecs.encode results by argument

    [[noreturn]] void error(const std::string& what) const {
        fail(SWU_ERR_FORMAT, "pickle: " + what + " at offset " + std::to_string(op_pos_));
    }

    // ---- input ----
    void need(size_t k) const {
        if (n_ - pos_ < k) error("truncated pickle");
    }
    uint8_t u8() { need(1); return p_[pos_++]; }
    uint64_t le(size_t k) {
        need(k);
        uint64_t v = 0;
        for (size_t j = 0; j < k; ++j) v |= uint64_t(p_[pos_ + j]) << (8 * j);
        pos_ += k;
        return v;
    }
    std::string bytes(uint64_t k) {
        if (k > n_ - pos_) error("string length " + std::to_string(k) + " exceeds the remaining pickle");
        std::string s(reinterpret_cast<const char*>(p_ + pos_), static_cast<size_t>(k));
        pos_ += static_cast<size_t>(k);
        return s;
    }
    std::string line() {
        const void* nl = std::memchr(p_ + pos_, '\n', n_ - pos_);
        if (!nl) error("truncated GLOBAL");
        const size_t len = static_cast<size_t>(static_cast<const uint8_t*>(nl) - (p_ + pos_));
        std::string s(reinterpret_cast<const char*>(p_ + pos_), len);
        pos_ += len + 1;
        return s;
    }

    // ---- values ----
    Value* make(Kind k) {
        if (arena_.size() >= kMaxValues) error("too many values");
        arena_.push_back(std::make_unique<Value>());
        arena_.back()->kind = k;
        return arena_.back().get();
    }
    Value* make_int(int64_t v) { Value* x = make(Kind::Int); x->i = v; return x; }
    Value* make_str(Kind k, std::string s) { Value* x = make(k); x->s = std::move(s); return x; }

    void note_child(Value* container, const Value* child) {
        if (child->depth + 1 > container->depth) container->depth = child->depth + 1;
        if (container->depth > kMaxDepth) error("values nested deeper than " + std::to_string(kMaxDepth));
    }
    void adopt(Value* container, Value* child) {
        note_child(container, child);
        container->items.push_back(child);
    }
    void dict_set(Value* d, Value* k, Value* v) {
        const std::string key = dict_key_of(k);
        if (!key.empty()) {
            if (!d->dict_index) d->dict_index = std::make_unique<std::unordered_map<std::string, size_t>>();
            auto it = d->dict_index->find(key);
            if (it != d->dict_index->end()) {
                note_child(d, v);
                d->items[it->second + 1] = v;
                return;
            }
            d->dict_index->emplace(key, d->items.size());
        }
        adopt(d, k);
        adopt(d, v);
    }

    // ---- stack ----
    void push(Value* v) {
        if (stack_.size() >= kMaxStack) error("pickle stack too deep");
        stack_.push_back(v);
    }
    size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
    Value* pop() {
        if (stack_.size() <= floor()) error("pickle stack underflow");
        Value* v = stack_.back();
        stack_.pop_back();
        return v;
    }
    Value* top() {
        if (stack_.size() <= floor()) error("pickle stack underflow");
        return stack_.back();
    }
    std::vector<Value*> pop_mark() {
        if (marks_.empty()) error("missing MARK");
        const size_t m = marks_.back();
        marks_.pop_back();
        std::vector<Value*> items(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
        stack_.resize(m);
        return items;
    }
    Value* make_tuple(const std::vector<Value*>& items) {
        Value* t = make(Kind::Tuple);
        t->items.reserve(items.size());
        for (Value* v : items) adopt(t, v);
        return t;
    }

    void memo_put(uint32_t idx) {
        if (memo_.size() >= kMaxMemo && !memo_.count(idx)) error("pickle memo too large");
        memo_[idx] = top();
    }
    Value* memo_get(uint32_t idx) {
        auto it = memo_.find(idx);
        if (it == memo_.end()) error("memo key " + std::to_string(idx) + " not defined");
        return it->second;
    }

    void global(const std::string& module, const std::string& name) {
        const std::string full = module + "." + name;
        for (const auto& g : kAllowedGlobals) {
            if (full == g.name) {
                Value* v = make_str(Kind::Global, full);
                v->dtype = g.dtype;
                v->is_storage_class = g.is_storage;
                push(v);
                return;
            }
        }
        error("refused pickle global '" + full +
              "': a checkpoint may only contain tensors (nothing in it was executed); a pickled model object "
              "must be re-saved with torch.save(model.state_dict(), path)");
    }

    void step(uint8_t op) {
        switch (op) {
            case 0x80: { const uint8_t proto = u8(); if (proto > 5) error("unsupported pickle protocol " + std::to_string(proto)); return; }
            case 0x95: le(8); return;  // FRAME: framing is irrelevant to a reader holding all bytes
            case '(':
                if (marks_.size() >= kMaxStack) error("too many MARKs");
                marks_.push_back(stack_.size());
                return;
            case '0': pop(); return;
            case '1': pop_mark(); return;
            case '2': push(top()); return;
            case '}': push(make(Kind::Dict)); return;
            case ']': push(make(Kind::List)); return;
            case ')': push(make(Kind::Tuple)); return;
            case 't': push(make_tuple(pop_mark())); return;
            case 0x85: { Value* a = pop(); push(make_tuple({a})); return; }
            case 0x86: { Value* b = pop(); Value* a = pop(); push(make_tuple({a, b})); return; }
            case 0x87: { Value* c = pop(); Value* b = pop(); Value* a = pop(); push(make_tuple({a, b, c})); return; }
            case 'l': {
                const auto items = pop_mark();
                Value* l = make(Kind::List);
                for (Value* v : items) adopt(l, v);
                push(l);
                return;
            }
            case 'd': {
                const auto items = pop_mark();
                if (items.size() % 2) error("DICT with an odd number of items");
                Value* d = make(Kind::Dict);
                for (size_t j = 0; j < items.size(); j += 2) dict_set(d, items[j], items[j + 1]);
                push(d);
                return;
            }
            case 'a': { Value* v = pop(); append_to(top(), {v}); return; }
            case 'e': { const auto items = pop_mark(); append_to(top(), items); return; }
            case 's': { Value* v = pop(); Value* k = pop(); set_items(top(), {k, v}); return; }
            case 'u': { const auto items = pop_mark(); set_items(top(), items); return; }
            case 'J': push(make_int(int32_t(uint32_t(le(4))))); return;
            case 'K': push(make_int(int64_t(le(1)))); return;
            case 'M': push(make_int(int64_t(le(2)))); return;
            case 0x8a: {
                const size_t k = u8();
                if (k > 8) error("integer of " + std::to_string(k) + " bytes is too large");
                uint64_t v = le(k);
                if (k > 0 && k < 8 && (v >> (8 * k - 1)) & 1) v |= ~uint64_t(0) << (8 * k);
                push(make_int(static_cast<int64_t>(v)));
                return;
            }
            case 'G': {
                need(8);
                uint64_t bits = 0;
                for (size_t j = 0; j < 8; ++j) bits = (bits << 8) | p_[pos_ + j];
                pos_ += 8;
                Value* v = make(Kind::Float);
                std::memcpy(&v->f, &bits, 8);
                push(v);
                return;
            }
            case 'N': push(make(Kind::None)); return;
            case 0x88: case 0x89: { Value* v = make(Kind::Bool); v->i = op == 0x88; push(v); return; }
            case 'X': push(make_str(Kind::String, bytes(le(4)))); return;
            case 0x8c: push(make_str(Kind::String, bytes(le(1)))); return;
            case 0x8d: push(make_str(Kind::String, bytes(le(8)))); return;
            case 'U': push(make_str(Kind::String, bytes(le(1)))); return;
            case 'T': {
                const int32_t len = int32_t(uint32_t(le(4)));
                if (len < 0) error("negative string length");
                push(make_str(Kind::String, bytes(uint64_t(len))));
                return;
            }
            case 'C': push(make_str(Kind::Bytes, bytes(le(1)))); return;
            case 'B': push(make_str(Kind::Bytes, bytes(le(4)))); return;
            case 'q': memo_put(uint32_t(le(1))); return;
            case 'r': memo_put(uint32_t(le(4))); return;
            case 0x94: memo_put(uint32_t(memo_.size())); return;
            case 'h': push(memo_get(uint32_t(le(1)))); return;
            case 'j': push(memo_get(uint32_t(le(4)))); return;
            case 'c': { const std::string module = line(); const std::string name = line(); global(module, name); return; }
            case 0x93: {
                Value* name = pop();
                Value* module = pop();
                if (name->kind != Kind::String || module->kind != Kind::String) error("STACK_GLOBAL needs two strings");
                global(module->s, name->s);
                return;
            }
            case 'R': { Value* args = pop(); Value* fn = pop(); push(reduce(fn, args)); return; }
            case 'b': {
                pop();  // state: a state dict's _metadata or a tensor's attributes; not needed
                const Value* obj = top();
                if (obj->kind != Kind::Dict && obj->kind != Kind::Tensor)
                    error(std::string("BUILD on a ") + kind_name(obj->kind) + " is not allowed");
                return;
            }
            case 'Q': push(persistent_load(pop())); return;
            default: {
                char buf[96];
                if (op >= 0x20 && op < 0x7f)
                    std::snprintf(buf, sizeof buf, "unsupported pickle opcode 0x%02x ('%c')", op, op);
                else
                    std::snprintf(buf, sizeof buf, "unsupported pickle opcode 0x%02x", op);
                error(buf);
            }
        }
    }

    void append_to(Value* list, const std::vector<Value*>& items) {
        if (list->kind != Kind::List) error(std::string("APPEND to a ") + kind_name(list->kind));
        for (Value* v : items) adopt(list, v);
    }
    void set_items(Value* d, const std::vector<Value*>& items) {
        if (d->kind != Kind::Dict) error(std::string("SETITEM on a ") + kind_name(d->kind));
        if (items.size() % 2) error("SETITEMS with an odd number of items");
        for (size_t j = 0; j < items.size(); j += 2) dict_set(d, items[j], items[j + 1]);
    }

    // ---- allow-listed callables ----
    static bool is_int(const Value* v) { return v->kind == Kind::Int; }
    std::vector<int64_t> int_tuple(const Value* v, const char* what) {
        if (v->kind != Kind::Tuple) error(std::string("tensor ") + what + " is a " + kind_name(v->kind) + ", not a tuple");
        if (v->items.size() > kMaxTensorRank) error(std::string("tensor ") + what + " has too many dimensions");
        std::vector<int64_t> out;
        for (const Value* x : v->items) {
            if (!is_int(x)) error(std::string("tensor ") + what + " holds a " + kind_name(x->kind));
            out.push_back(x->i);
        }
        return out;
    }

    Value* reduce(Value* fn, Value* args) {
        if (fn->kind != Kind::Global) error(std::string("REDUCE on a ") + kind_name(fn->kind) + " (only allow-listed globals may be applied)");
        if (args->kind != Kind::Tuple) error("REDUCE arguments are not a tuple");
        const auto& a = args->items;
        const std::string& name = fn->s;
        if (name == "collections.OrderedDict") {
            if (!a.empty()) error("OrderedDict() with arguments is not supported");
            return make(Kind::Dict);
        }
        if (name == "torch._utils._rebuild_tensor_v2") {
            if (a.size() != 6 && a.size() != 7) error("_rebuild_tensor_v2 takes 6 or 7 arguments, got " + std::to_string(a.size()));
            if (a[0]->kind != Kind::Storage) error(std::string("_rebuild_tensor_v2 storage is a ") + kind_name(a[0]->kind));
            if (!is_int(a[1])) error("_rebuild_tensor_v2 storage_offset is not an int");
            if (a[4]->kind != Kind::Bool) error("_rebuild_tensor_v2 requires_grad is not a bool");
            if (a[5]->kind != Kind::Dict) error("_rebuild_tensor_v2 backward_hooks is not a dict");
            Value* t = make(Kind::Tensor);
            t->storage = a[0];
            t->dtype = a[0]->dtype;
            t->offset = a[1]->i;
            t->sizes = int_tuple(a[2], "size");
            t->strides = int_tuple(a[3], "stride");
            if (t->sizes.size() != t->strides.size()) error("tensor size and stride have different lengths");
            return t;
        }
        if (name == "torch._utils._rebuild_parameter" || name == "torch._utils._rebuild_parameter_with_state") {
            const size_t want = name == "torch._utils._rebuild_parameter" ? 3 : 4;
            if (a.size() != want) error(name + " takes " + std::to_string(want) + " arguments");
            if (a[0]->kind != Kind::Tensor) error(name + " applied to a " + kind_name(a[0]->kind));
            return a[0];
        }
        if (name == "_codecs.encode") return latin1_encode(a);
        error("global '" + name + "' cannot be applied");
    }

    // Protocol-2 pickles carry bytes as _codecs.encode(<latin-1 text as str>, 'latin1').
    // One result per argument: a memoised string encoded again and again is not copied
    // each time, so the strings held stay within the pickle's own size.
    Value* latin1_encode(const std::vector<Value*>& a) {
        if (a.size() != 2 || a[0]->kind != Kind::String || a[1]->kind != Kind::String ||
            (a[1]->s != "latin1" && a[1]->s != "latin-1"))
            error("_codecs.encode is only accepted as encode(str, 'latin1')");
        if (auto it = encoded_.find(a[0]); it != encoded_.end()) return it->second;
        std::string out;
        const std::string& s = a[0]->s;
        for (size_t j = 0; j < s.size(); ++j) {
            const auto c = static_cast<unsigned char>(s[j]);
            if (c < 0x80) {
                out += char(c);
            } else if ((c == 0xc2 || c == 0xc3) && j + 1 < s.size() && (static_cast<unsigned char>(s[j + 1]) & 0xc0) == 0x80) {
                out += char(((c & 0x03) << 6) | (static_cast<unsigned char>(s[j + 1]) & 0x3f));
                ++j;
            } else {
                error("_codecs.encode: text is not latin-1");
            }
        }
        return encoded_[a[0]] = make_str(Kind::Bytes, std::move(out));
    }

    Value* persistent_load(const Value* pid) {
        if (pid->kind != Kind::Tuple || pid->items.size() != 5)
            error("persistent id is not a ('storage', class, key, location, numel) tuple");
        const auto& t = pid->items;
        if (t[0]->kind != Kind::String || t[0]->s != "storage") error("persistent id is not a storage");
        if (t[1]->kind != Kind::Global || !t[1]->is_storage_class) error("persistent id names no torch storage class");
        if (t[2]->kind != Kind::String || t[3]->kind != Kind::String) error("storage key or location is not a string");
        if (!is_int(t[4]) || t[4]->i < 0) error("storage numel is not a non-negative int");
        auto it = storages_.find(t[2]->s);
        if (it != storages_.end()) {
            const Value* s = it->second;
            if (s->dtype != t[1]->dtype || s->numel != uint64_t(t[4]->i))
                error("storage '" + t[2]->s + "' is described twice with different types or sizes");
            return it->second;
        }
        Value* s = make_str(Kind::Storage, t[2]->s);
        s->dtype = t[1]->dtype;
        s->numel = uint64_t(t[4]->i);
        storages_.emplace(t[2]->s, s);
        return s;
    }
};

bool is_tensor_dict(const Value* v) {
    if (v->kind != Kind::Dict || v->items.empty()) return false;
    for (size_t j = 1; j < v->items.size(); j += 2)
        if (v->items[j]->kind != Kind::Tensor) return false;
    return true;
}

const Value* find_state_dict(const Value* top) {
    if (top->kind != Kind::Dict)
        fail(SWU_ERR_FORMAT, std::string("top-level object is a ") + kind_name(top->kind) +
                                 "; expected a state_dict (a dict of tensors) as written by torch.save(model.state_dict(), path)");
    if (is_tensor_dict(top)) return top;
    bool any_tensor = false;
    std::string keys;
    for (size_t j = 0; j < top->items.size(); j += 2) {
        const Value* k = top->items[j];
        const Value* v = top->items[j + 1];
        any_tensor = any_tensor || v->kind == Kind::Tensor;
        if (k->kind == Kind::String && keys.size() < 200) keys += (keys.empty() ? "'" : ", '") + k->s + "'";
    }
    for (const char* wrapper : {"state_dict", "model", "network"}) {
        for (size_t j = 0; j < top->items.size(); j += 2) {
            const Value* k = top->items[j];
            if (k->kind == Kind::String && k->s == wrapper && top->items[j + 1]->kind == Kind::Dict) return top->items[j + 1];
        }
    }
    // A dict with some tensors is a state dict with a stray entry, reported by the caller
    // under that entry's name; one without any is some other kind of file.
    if (!any_tensor && !top->items.empty())
        fail(SWU_ERR_FORMAT, "top-level dict holds no tensors (keys: " + keys +
                                 ") and no 'state_dict', 'model' or 'network' entry holding a state_dict");
    return top;
}

}  // namespace

std::vector<PickledStateDictEntry> read_state_dict_pickle(const uint8_t* data, size_t size) {
    Machine m(data, size);
    const Value* sd = find_state_dict(m.run());
    if (sd->items.empty()) fail(SWU_ERR_FORMAT, "the state_dict is empty");
    std::vector<PickledStateDictEntry> out;
    out.reserve(sd->items.size() / 2);
    for (size_t j = 0; j < sd->items.size(); j += 2) {
        const Value* k = sd->items[j];
        const Value* v = sd->items[j + 1];
        if (k->kind != Kind::String) fail(SWU_ERR_FORMAT, std::string("state_dict has a key of type ") + kind_name(k->kind));
        if (v->kind != Kind::Tensor)
            fail(SWU_ERR_FORMAT, "state_dict entry '" + k->s + "' is a " + kind_name(v->kind) +
                                     ", not a tensor (only plain tensors are supported)");
        PickledStateDictEntry e;
        e.name = k->s;
        e.tensor.storage_key = v->storage->s;
        e.tensor.dtype = v->dtype;
        e.tensor.storage_numel = v->storage->numel;
        e.tensor.storage_offset = v->offset;
        e.tensor.sizes = v->sizes;
        e.tensor.strides = v->strides;
        out.push_back(std::move(e));
    }
    const std::string prefix = "module.";
    bool all_prefixed = true;
    for (const auto& e : out) all_prefixed = all_prefixed && e.name.compare(0, prefix.size(), prefix) == 0;
    if (all_prefixed)
        for (auto& e : out) e.name.erase(0, prefix.size());
    return out;
}

}  // namespace swu
