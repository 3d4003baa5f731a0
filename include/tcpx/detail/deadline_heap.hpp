// tcpx/detail/deadline_heap.hpp — which connection's timer falls due first.
//
// The stack keeps one entry per connection slot whose earliest timer (RFC 6298
// retransmission, persist, keep-alive, delayed ACK, TIME-WAIT ...) is set: the
// deadline the connection's next_deadline() reports. poll() pops only the entries
// that are due, so its cost follows the number of timers that fire, not the
// number of connections, however many sit idle.
//
// An indexed 4-ary min-heap of (deadline, id):
//   - ids are small dense integers (connection slots); each id is in the heap at
//     most once, and pos_[id] says where, so set() can move an entry in place and
//     erase() can remove one from the middle, both O(log n).
//   - order is (deadline, id): equal deadlines come out lowest id first, so a run
//     is the same every time (DESIGN.md: same seed, same run, bit for bit).
//   - 4-ary rather than binary: half the depth, and a node's four children are 64
//     contiguous bytes (16-byte entries), so sifting down a large heap touches
//     about half as many cache lines.
//   - memory grows geometrically with the largest id seen and is never returned;
//     once an id has been seen (or reserve() covered it), set() does not allocate.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <tcpx/time.hpp>

namespace tcpx::detail {

class deadline_heap {
public:
    using id_type = std::uint32_t;
    /// Not a valid id (it marks "absent" inside).
    static constexpr id_type no_id = 0xffff'ffff;

    /// Gives `id` the deadline t: inserts it, or moves it if it is already in.
    /// Setting tcpx::never removes it, since "never" is no deadline at all; so
    /// `set(slot, conn.next_deadline())` is all a caller needs after any event.
    void set(id_type id, instant t)
    {
        assert(id != no_id);
        if (t == never) {
            erase(id);
            return;
        }
        cover(id);
        const entry e{t, id};
        const id_type at = pos_[id];
        if (at == no_id) {
            heap_.push_back(e);  // no reallocation: capacity >= pos_.size(), see cover()
            sift_up(heap_.size() - 1, e);
        } else if (before(e, heap_[at])) {
            sift_up(at, e);
        } else {
            sift_down(at, e);
        }
    }

    /// Removes id; nothing happens if it is not in the heap.
    void erase(id_type id) noexcept
    {
        if (!contains(id)) {
            return;
        }
        const std::size_t at = pos_[id];
        pos_[id] = no_id;
        const entry last = heap_.back();
        heap_.pop_back();
        if (at == heap_.size()) {
            return;  // it was the last entry: nothing to refill
        }
        // The last entry fills the hole; it may belong above or below it.
        if (at > 0 && before(last, heap_[parent(at)])) {
            sift_up(at, last);
        } else {
            sift_down(at, last);
        }
    }

    bool contains(id_type id) const noexcept { return id < pos_.size() && pos_[id] != no_id; }

    /// id's deadline, or tcpx::never if it is not in the heap.
    instant deadline(id_type id) const noexcept { return contains(id) ? heap_[pos_[id]].deadline : never; }

    /// The earliest deadline, or tcpx::never when the heap is empty.
    instant top_deadline() const noexcept { return heap_.empty() ? never : heap_.front().deadline; }

    /// The id with the earliest deadline (lowest id among equals). Precondition: !empty().
    id_type top_id() const noexcept
    {
        assert(!heap_.empty());
        return heap_.front().id;
    }

    /// Removes the top entry. Precondition: !empty().
    void pop() noexcept
    {
        assert(!heap_.empty());
        erase(heap_.front().id);
    }

    std::size_t size() const noexcept { return heap_.size(); }
    bool empty() const noexcept { return heap_.empty(); }

    /// Makes room for ids [0, n), so that setting them never allocates.
    void reserve(std::size_t n)
    {
        if (n > pos_.size()) {
            pos_.resize(n, no_id);
            heap_.reserve(n);
        }
    }

    /// Ids below this can be set without allocating.
    std::size_t capacity() const noexcept { return pos_.size(); }
    /// Heap memory held, in bytes.
    std::size_t memory_bytes() const noexcept
    {
        return heap_.capacity() * sizeof(entry) + pos_.capacity() * sizeof(id_type);
    }

    /// Removes every entry; keeps the memory.
    void clear() noexcept
    {
        for (const entry& e : heap_) {
            pos_[e.id] = no_id;
        }
        heap_.clear();
    }

    /// O(n) self-check for tests: heap order holds and pos_ and heap_ agree.
    bool invariants_hold() const noexcept
    {
        std::size_t present = 0;
        for (std::size_t id = 0; id < pos_.size(); ++id) {
            if (pos_[id] != no_id) {
                ++present;
                if (pos_[id] >= heap_.size() || heap_[pos_[id]].id != id) {
                    return false;
                }
            }
        }
        for (std::size_t i = 1; i < heap_.size(); ++i) {
            if (before(heap_[i], heap_[parent(i)])) {
                return false;
            }
        }
        return present == heap_.size() && heap_.capacity() >= pos_.size();
    }

private:
    struct entry {
        instant deadline;
        id_type id;
    };

    static constexpr std::size_t arity = 4;

    static constexpr std::size_t parent(std::size_t i) noexcept { return (i - 1) / arity; }

    /// Heap order: by deadline, ties by id, so equal deadlines pop in a fixed order.
    static constexpr bool before(const entry& a, const entry& b) noexcept
    {
        return a.deadline < b.deadline || (a.deadline == b.deadline && a.id < b.id);
    }

    /// Grows pos_ (geometrically, amortised O(1)) to cover id, and keeps heap_'s
    /// capacity at least pos_.size(): the heap never holds more entries than there
    /// are ids, so a push for a covered id never reallocates.
    void cover(id_type id)
    {
        if (id < pos_.size()) {
            return;
        }
        reserve(std::max<std::size_t>({std::size_t{id} + 1, 2 * pos_.size(), 16}));
    }

    void place(std::size_t i, const entry& e) noexcept
    {
        heap_[i] = e;
        pos_[e.id] = static_cast<id_type>(i);
    }

    /// Moves e from hole i toward the root until its parent is before it.
    void sift_up(std::size_t i, entry e) noexcept
    {
        while (i > 0 && before(e, heap_[parent(i)])) {
            place(i, heap_[parent(i)]);
            i = parent(i);
        }
        place(i, e);
    }

    /// Moves e from hole i toward the leaves until no child is before it.
    void sift_down(std::size_t i, entry e) noexcept
    {
        const std::size_t n = heap_.size();
        for (;;) {
            const std::size_t first = i * arity + 1;
            if (first >= n) {
                break;
            }
            const std::size_t end = std::min(first + arity, n);
            std::size_t best = first;
            for (std::size_t c = first + 1; c < end; ++c) {
                if (before(heap_[c], heap_[best])) {
                    best = c;
                }
            }
            if (!before(heap_[best], e)) {
                break;
            }
            place(i, heap_[best]);
            i = best;
        }
        place(i, e);
    }

    std::vector<entry> heap_;    // the 4-ary heap, root at 0
    std::vector<id_type> pos_;   // pos_[id]: index of id's entry in heap_, or no_id
};

}  // namespace tcpx::detail
