package control

import (
	"encoding/json"
	"slices"
)

// Asset ownership.
//
// An asset may name the course that owns it (Asset.CourseID). Rights on
// that course (admin, or an instructor whose token lists it) are what
// linking the asset into a lesson, recording a session into it and
// signing playback URLs for it need; the API layer checks them before
// proposing (control/api, node's playback-token handler). Only admins
// write assets, so only admins set or transfer an owner.
//
// In the FSM (deterministic on every replica, whatever version applies an
// entry):
//   - an asset update without course_id keeps the current owner: origin
//     nodes register their media without one and must not clear it;
//   - an owner must be an existing course (ref_missing otherwise);
//   - deleting a course releases the assets it owns (they lose their
//     owner).
//
// An asset without course_id (every asset from before ownership, media an
// origin registered, recordings) has a derived owner: the course of the
// lessons that link it and the sessions that recorded into it, when they
// all belong to one course; none when nothing or several courses use it.
// It is computed on read from the replica (AssetOwner, AssetOwners), so it
// is the same on every node at the same applied index and needs no
// migration. Derived ownership follows the links an admin made (an
// unowned asset can only be linked by an admin), so it never gives an
// instructor an asset an admin did not put in their course. An admin makes
// it explicit, or settles a shared asset, with a PUT that sets course_id.

// releaseAssets clears the owner of every asset course owns.
func (w *writer) releaseAssets(course string) error {
	var owned []*Asset
	err := w.scan(KindAsset, func(x record) bool {
		if a := x.(*Asset); a.CourseID == course {
			owned = append(owned, a)
		}
		return true
	})
	if err != nil {
		return err
	}
	for _, a := range owned {
		a.CourseID = ""
		if err := w.touch(KindAsset, a); err != nil {
			return err
		}
	}
	return nil
}

// AssetOwner returns the course that owns asset id on this replica: its
// course_id, else its derived owner (see above). "" means no owner: only
// admins may link or sign for it. It fails with CodeNotFound when the
// asset does not exist.
func (s *Store) AssetOwner(id string) (string, error) {
	a, err := s.Asset(id)
	if err != nil {
		return "", err
	}
	if a.CourseID != "" {
		return a.CourseID, nil
	}
	owners, err := s.derivedOwners(func(asset string) bool { return asset == id })
	return owners[id], err
}

// AssetOwners returns the owner of every asset that has one, as AssetOwner
// answers for each, read in one pass over the local replica (for access
// tables rebuilt when the replica moves).
func (s *Store) AssetOwners() (map[string]string, error) {
	assets, err := s.Assets()
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(assets))
	unowned := map[string]bool{}
	for _, a := range assets {
		if a.CourseID != "" {
			out[a.ID] = a.CourseID
		} else {
			unowned[a.ID] = true
		}
	}
	derived, err := s.derivedOwners(func(asset string) bool { return unowned[asset] })
	if err != nil {
		return nil, err
	}
	for a, c := range derived {
		out[a] = c
	}
	return out, nil
}

// derivedOwners maps each asset selected by want to the one course whose
// lessons link it and whose sessions recorded into it; assets used by
// several courses are left out.
func (s *Store) derivedOwners(want func(asset string) bool) (map[string]string, error) {
	courses := map[string][]string{}
	use := func(asset, course string) {
		if asset != "" && course != "" && want(asset) && !slices.Contains(courses[asset], course) {
			courses[asset] = append(courses[asset], course)
		}
	}
	raw, err := s.List(KindLesson, nil)
	if err != nil {
		return nil, err
	}
	for _, b := range raw {
		var l Lesson
		if err := json.Unmarshal(b, &l); err != nil {
			return nil, err
		}
		use(l.AssetID, l.CourseID)
	}
	sessions, err := s.Sessions()
	if err != nil {
		return nil, err
	}
	for _, ls := range sessions {
		use(ls.RecordingAssetID, ls.CourseID)
	}
	out := make(map[string]string, len(courses))
	for a, cs := range courses {
		if len(cs) == 1 {
			out[a] = cs[0]
		}
	}
	return out, nil
}
