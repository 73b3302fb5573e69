package comnormserver

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// BoltStore is the durable default: one bbolt file, fsynced on every commit.
//
// Why bbolt: pure Go (no cgo, unlike most SQLite bindings), one file, ACID
// with a single writer, and its copy-on-write B+tree cannot be corrupted by
// a crash between commits. Writes from concurrent requests are grouped into
// one transaction and one fsync (group commit), so many senders cost about
// as much as one; Append returns only after its group is on disk.
type BoltStore struct {
	Notifier
	db     *bolt.DB
	writes chan *boltOp
	stop   chan struct{}
	done   chan struct{}
	mu     sync.RWMutex // guards closed against sends on writes
	closed bool
}

// boltOp is one write waiting for the next group commit. fn must check
// everything that can fail with a store sentinel before it modifies the
// transaction, so a refused op can simply be skipped while the rest of the
// group commits.
type boltOp struct {
	fn     func(tx *bolt.Tx) error
	notify string // queue to wake after commit
	err    error
	done   chan struct{}
}

// Bucket layout:
//
//	queues/<id>              -> encoded QueueRecord
//	owners/<owner>/<id>      -> empty (for the per-partner limit)
//	q/<id>/msgs/<seq:8 BE>   -> <created:8><idlen:1><id><body>
//	q/<id>/ids/<messageId>   -> <seq:8 BE>
//	q/<id> key "n"           -> message count (uint64 BE)
var (
	bucketQueues = []byte("queues")
	bucketOwners = []byte("owners")
	bucketQ      = []byte("q")
	bucketMsgs   = []byte("msgs")
	bucketIDs    = []byte("ids")
	keyCount     = []byte("n")
)

// maxGroup bounds one group commit so a flood of posts still gets regular
// answers.
const maxGroup = 2000

// OpenBoltStore opens or creates the store file at path. Only one process
// may open a file at a time; a second one fails after a second instead of
// hanging.
func OpenBoltStore(path string) (*BoltStore, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, FreelistType: bolt.FreelistMapType, NoFreelistSync: true})
	if err != nil {
		return nil, fmt.Errorf("comnormserver: open %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketQueues, bucketOwners, bucketQ} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("comnormserver: init %s: %w", path, err)
	}
	s := &BoltStore{db: db, writes: make(chan *boltOp, maxGroup), stop: make(chan struct{}), done: make(chan struct{})}
	go s.writer()
	return s, nil
}

// writer runs group commits: it takes whatever writes are waiting, applies
// them in one transaction and answers them all after the fsync.
func (s *BoltStore) writer() {
	defer close(s.done)
	group := make([]*boltOp, 0, maxGroup)
	for {
		select {
		case op := <-s.writes:
			group = append(group[:0], op)
		case <-s.stop:
			return
		}
	gather:
		for len(group) < maxGroup {
			select {
			case op := <-s.writes:
				group = append(group, op)
			default:
				break gather
			}
		}
		err := s.db.Update(func(tx *bolt.Tx) error {
			for _, op := range group {
				op.err = op.fn(tx)
				if op.err != nil && !isSentinel(op.err) {
					return op.err
				}
			}
			return nil
		})
		for _, op := range group {
			if err != nil {
				op.err = fmt.Errorf("comnormserver: commit: %w", err)
			} else if op.err == nil && op.notify != "" {
				s.Notify(op.notify)
			}
			close(op.done)
		}
	}
}

func isSentinel(err error) bool {
	return errors.Is(err, ErrQueueNotFound) || errors.Is(err, ErrQueueFull) || errors.Is(err, ErrTooManyQueues)
}

// write queues fn for the next group commit and waits for the outcome. A
// cancelled ctx stops the wait, not the write: the op may still commit.
func (s *BoltStore) write(ctx context.Context, notify string, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	op := &boltOp{fn: fn, notify: notify, done: make(chan struct{})}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return errors.New("comnormserver: store closed")
	}
	select {
	case s.writes <- op:
	case <-ctx.Done():
		s.mu.RUnlock()
		return ctx.Err()
	}
	s.mu.RUnlock()
	select {
	case <-op.done:
		return op.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func u64(n uint64) []byte { b := make([]byte, 8); binary.BigEndian.PutUint64(b, n); return b }

func encodeQueue(q QueueRecord) []byte {
	b := make([]byte, 0, 48+len(q.Owner))
	b = append(b, q.SecretHash[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(q.Created.UnixNano()))
	return append(b, q.Owner...)
}

func decodeQueue(id string, b []byte) (QueueRecord, error) {
	if len(b) < 40 {
		return QueueRecord{}, fmt.Errorf("comnormserver: corrupt queue record %q", id)
	}
	q := QueueRecord{ID: id, Owner: string(b[40:]), Created: time.Unix(0, int64(binary.BigEndian.Uint64(b[32:40]))).UTC()}
	copy(q.SecretHash[:], b[:32])
	return q, nil
}

func encodeMessage(m MessageRecord) []byte {
	b := make([]byte, 0, 9+len(m.ID)+len(m.Body))
	b = binary.BigEndian.AppendUint64(b, uint64(m.Created.UnixNano()))
	b = append(b, byte(len(m.ID)))
	b = append(b, m.ID...)
	return append(b, m.Body...)
}

func decodeMessage(b []byte) (MessageRecord, error) {
	if len(b) < 9 || len(b) < 9+int(b[8]) {
		return MessageRecord{}, errors.New("comnormserver: corrupt message record")
	}
	n := int(b[8])
	body := make([]byte, len(b)-9-n) // bbolt memory is only valid inside the tx
	copy(body, b[9+n:])
	return MessageRecord{
		ID:      string(b[9 : 9+n]),
		Body:    body,
		Created: time.Unix(0, int64(binary.BigEndian.Uint64(b[:8]))).UTC(),
	}, nil
}

// CreateQueue implements Store.
func (s *BoltStore) CreateQueue(ctx context.Context, q QueueRecord, maxPerOwner int) error {
	if len(q.ID) == 0 || len(q.ID) > 255 {
		return errors.New("comnormserver: queue id must be 1..255 bytes")
	}
	return s.write(ctx, "", func(tx *bolt.Tx) error {
		owners := tx.Bucket(bucketOwners)
		if maxPerOwner > 0 {
			if ob := owners.Bucket([]byte(q.Owner)); ob != nil {
				n := 0
				c := ob.Cursor()
				for k, _ := c.First(); k != nil && n < maxPerOwner; k, _ = c.Next() {
					n++
				}
				if n >= maxPerOwner {
					return ErrTooManyQueues
				}
			}
		}
		ob, err := owners.CreateBucketIfNotExists([]byte(q.Owner))
		if err != nil {
			return err
		}
		if err := ob.Put([]byte(q.ID), nil); err != nil {
			return err
		}
		if err := tx.Bucket(bucketQueues).Put([]byte(q.ID), encodeQueue(q)); err != nil {
			return err
		}
		qb, err := tx.Bucket(bucketQ).CreateBucket([]byte(q.ID))
		if err != nil {
			return err
		}
		if _, err := qb.CreateBucket(bucketMsgs); err != nil {
			return err
		}
		if _, err := qb.CreateBucket(bucketIDs); err != nil {
			return err
		}
		return qb.Put(keyCount, u64(0))
	})
}

// Queue implements Store.
func (s *BoltStore) Queue(ctx context.Context, id string) (QueueRecord, error) {
	if err := ctx.Err(); err != nil {
		return QueueRecord{}, err
	}
	var q QueueRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketQueues).Get([]byte(id))
		if b == nil {
			return ErrQueueNotFound
		}
		var err error
		q, err = decodeQueue(id, b)
		return err
	})
	return q, err
}

// DeleteQueue implements Store.
func (s *BoltStore) DeleteQueue(ctx context.Context, id string) error {
	return s.write(ctx, id, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketQueues).Get([]byte(id))
		if b == nil {
			return ErrQueueNotFound
		}
		q, err := decodeQueue(id, b)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketQueues).Delete([]byte(id)); err != nil {
			return err
		}
		if ob := tx.Bucket(bucketOwners).Bucket([]byte(q.Owner)); ob != nil {
			if err := ob.Delete([]byte(id)); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketQ).DeleteBucket([]byte(id))
	})
}

// Append implements Store. It returns after the fsync of its group commit.
func (s *BoltStore) Append(ctx context.Context, queueID string, m MessageRecord, maxMessages int) error {
	if len(m.ID) == 0 || len(m.ID) > 255 {
		return errors.New("comnormserver: message id must be 1..255 bytes")
	}
	rec := encodeMessage(m)
	return s.write(ctx, queueID, func(tx *bolt.Tx) error {
		qb := tx.Bucket(bucketQ).Bucket([]byte(queueID))
		if qb == nil {
			return ErrQueueNotFound
		}
		n := binary.BigEndian.Uint64(qb.Get(keyCount))
		if maxMessages > 0 && n >= uint64(maxMessages) {
			return ErrQueueFull
		}
		msgs := qb.Bucket(bucketMsgs)
		seq, err := msgs.NextSequence()
		if err != nil {
			return err
		}
		if err := msgs.Put(u64(seq), rec); err != nil {
			return err
		}
		if err := qb.Bucket(bucketIDs).Put([]byte(m.ID), u64(seq)); err != nil {
			return err
		}
		return qb.Put(keyCount, u64(n+1))
	})
}

// Peek implements Store.
func (s *BoltStore) Peek(ctx context.Context, queueID string, n int) ([]MessageRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []MessageRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		qb := tx.Bucket(bucketQ).Bucket([]byte(queueID))
		if qb == nil {
			return ErrQueueNotFound
		}
		c := qb.Bucket(bucketMsgs).Cursor()
		for k, v := c.First(); k != nil && len(out) < n; k, v = c.Next() {
			m, err := decodeMessage(v)
			if err != nil {
				return err
			}
			out = append(out, m)
		}
		return nil
	})
	return out, err
}

// DeleteMessage implements Store.
func (s *BoltStore) DeleteMessage(ctx context.Context, queueID, messageID string) error {
	return s.write(ctx, "", func(tx *bolt.Tx) error {
		qb := tx.Bucket(bucketQ).Bucket([]byte(queueID))
		if qb == nil {
			return ErrQueueNotFound
		}
		ids := qb.Bucket(bucketIDs)
		seq := ids.Get([]byte(messageID))
		if seq == nil {
			return nil
		}
		if err := qb.Bucket(bucketMsgs).Delete(seq); err != nil {
			return err
		}
		if err := ids.Delete([]byte(messageID)); err != nil {
			return err
		}
		return qb.Put(keyCount, u64(binary.BigEndian.Uint64(qb.Get(keyCount))-1))
	})
}

// Close waits for the writes already queued, then closes the file.
func (s *BoltStore) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	// No new ops can be queued now; let the writer finish what is queued.
	for len(s.writes) > 0 {
		time.Sleep(time.Millisecond)
	}
	close(s.stop)
	<-s.done
	return s.db.Close()
}
