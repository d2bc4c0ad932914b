package control

// normalize fills derived and immutable fields from the current record.
// Order lists (course modules, module lessons) are maintained by the FSM:
// a create starts empty, an update may only reorder, a rollback keeps the
// current structure when the historical order no longer matches it.
func (w *writer) normalize(rec, old record, rollback bool) error {
	switch r := rec.(type) {
	case *Course:
		var cur []string
		if old != nil {
			cur = old.(*Course).Modules
		}
		list, err := keepOrder("modules", r.Modules, cur, old == nil, rollback)
		r.Modules = list
		return err
	case *Module:
		var cur []string
		if old != nil {
			cur = old.(*Module).Lessons
			if r.CourseID != old.(*Module).CourseID {
				return invalid("course_id", "a module cannot move to another course")
			}
		}
		list, err := keepOrder("lessons", r.Lessons, cur, old == nil, rollback)
		r.Lessons = list
		return err
	case *LiveSession:
		if old != nil {
			o := old.(*LiveSession)
			r.StreamKeyHash = o.StreamKeyHash
			if o.State == SessionEnded && r.State != SessionEnded {
				return conflict("session %q has ended", r.ID)
			}
		}
	case *APIToken:
		if old != nil {
			r.Hash = old.(*APIToken).Hash
		}
	case *Asset:
		if old != nil && r.CourseID == "" {
			r.CourseID = old.(*Asset).CourseID // registration never clears the owner
		}
	}
	return nil
}

func keepOrder(field string, given, cur []string, create, rollback bool) ([]string, error) {
	switch {
	case create && rollback:
		return nil, nil // the children were deleted with the record
	case create && len(given) > 0:
		return nil, invalid(field, "is filled by creating children, not on create")
	case create:
		return []string{}, nil
	case given == nil:
		return cur, nil
	case samePermutation(given, cur):
		return given, nil
	case rollback:
		return cur, nil
	}
	return nil, invalid(field, "may only reorder the current %s", field)
}

// checkRefs verifies that every record rec points to exists.
func (w *writer) checkRefs(rec, old record) error {
	switch r := rec.(type) {
	case *Module:
		if !w.exists(KindCourse, r.CourseID) {
			return refMissing("course_id", KindCourse, r.CourseID)
		}
	case *Lesson:
		return w.checkLessonRefs(r, old)
	case *Asset:
		if r.CourseID != "" && !w.exists(KindCourse, r.CourseID) {
			return refMissing("course_id", KindCourse, r.CourseID)
		}
	case *LiveSession:
		if !w.exists(KindCourse, r.CourseID) {
			return refMissing("course_id", KindCourse, r.CourseID)
		}
		if r.RecordingAssetID != "" && !w.exists(KindAsset, r.RecordingAssetID) {
			return refMissing("recording_asset", KindAsset, r.RecordingAssetID)
		}
	case *APIToken:
		for _, c := range r.Courses {
			if !w.exists(KindCourse, c) {
				return refMissing("courses", KindCourse, c)
			}
		}
	}
	return nil
}

func (w *writer) checkLessonRefs(l *Lesson, old record) error {
	m, err := w.load(KindModule, l.ModuleID)
	if err != nil {
		return err
	}
	if m == nil {
		return refMissing("module_id", KindModule, l.ModuleID)
	}
	course := m.(*Module).CourseID
	if l.CourseID != "" && l.CourseID != course {
		return invalid("course_id", "module %q belongs to course %q, not %q", l.ModuleID, course, l.CourseID)
	}
	l.CourseID = course
	if old != nil && old.(*Lesson).CourseID != course {
		return invalid("module_id", "a lesson cannot move to another course")
	}
	if !w.exists(KindAsset, l.AssetID) {
		return refMissing("asset_id", KindAsset, l.AssetID)
	}
	for _, p := range l.Prerequisites {
		pr, err := w.load(KindLesson, p)
		if err != nil {
			return err
		}
		if pr == nil {
			return refMissing("prerequisites", KindLesson, p)
		}
		if pr.(*Lesson).CourseID != course {
			return invalid("prerequisites", "lesson %q is in another course", p)
		}
	}
	return nil
}

// link adds a new child to its parent's order list, or moves a lesson
// between modules of the same course.
func (w *writer) link(rec, old record) error {
	switch r := rec.(type) {
	case *Module:
		if old == nil {
			return w.editCourse(r.CourseID, func(c *Course) { c.Modules = append(c.Modules, r.ID) })
		}
	case *Lesson:
		if old != nil && old.(*Lesson).ModuleID == r.ModuleID {
			return nil
		}
		if old != nil {
			if err := w.editModule(old.(*Lesson).ModuleID, func(m *Module) { m.Lessons = remove(m.Lessons, r.ID) }); err != nil {
				return err
			}
		}
		return w.editModule(r.ModuleID, func(m *Module) { m.Lessons = append(m.Lessons, r.ID) })
	}
	return nil
}

func (w *writer) editCourse(id string, fn func(c *Course)) error {
	rec, err := w.load(KindCourse, id)
	if err != nil || rec == nil {
		return err
	}
	fn(rec.(*Course))
	return w.touch(KindCourse, rec)
}

func (w *writer) editModule(id string, fn func(m *Module)) error {
	rec, err := w.load(KindModule, id)
	if err != nil || rec == nil {
		return err
	}
	fn(rec.(*Module))
	return w.touch(KindModule, rec)
}

// delete checks that nothing depends on old, unlinks it and removes it.
// Its history is kept, so a rollback can bring it back.
func (w *writer) delete(old record) error {
	if err := w.checkDependents(old); err != nil {
		return err
	}
	var err error
	switch r := old.(type) {
	case *Course:
		err = w.releaseAssets(r.ID)
	case *Module:
		err = w.editCourse(r.CourseID, func(c *Course) { c.Modules = remove(c.Modules, r.ID) })
	case *Lesson:
		err = w.editModule(r.ModuleID, func(m *Module) { m.Lessons = remove(m.Lessons, r.ID) })
	}
	if err != nil {
		return err
	}
	if err := w.tx.Bucket([]byte(w.cmd.Kind)).Delete([]byte(old.key())); err != nil {
		return storageError{err}
	}
	return nil
}

func (w *writer) checkDependents(old record) error {
	id := old.key()
	switch r := old.(type) {
	case *Course:
		if n := len(r.Modules); n > 0 {
			return conflict("course %q has %d modules", id, n)
		}
		return w.refuseIfUsed(KindSession, "live sessions", func(x record) bool { return x.(*LiveSession).CourseID == id }, "course", id)
	case *Module:
		if n := len(r.Lessons); n > 0 {
			return conflict("module %q has %d lessons", id, n)
		}
	case *Lesson:
		return w.refuseIfUsed(KindLesson, "lessons as a prerequisite", func(x record) bool {
			return contains(x.(*Lesson).Prerequisites, id)
		}, "lesson", id)
	case *Asset:
		if err := w.refuseIfUsed(KindLesson, "lessons", func(x record) bool { return x.(*Lesson).AssetID == id }, "asset", id); err != nil {
			return err
		}
		return w.refuseIfUsed(KindSession, "live sessions as a recording", func(x record) bool {
			return x.(*LiveSession).RecordingAssetID == id
		}, "asset", id)
	}
	return nil
}

func (w *writer) refuseIfUsed(k Kind, what string, pred func(record) bool, self, id string) error {
	n, err := w.count(k, pred)
	if err != nil {
		return err
	}
	if n > 0 {
		return conflict("%s %q is used by %d %s", self, id, n, what)
	}
	return nil
}

func contains(list []string, id string) bool {
	for _, s := range list {
		if s == id {
			return true
		}
	}
	return false
}
