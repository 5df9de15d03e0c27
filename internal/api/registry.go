package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"runtime/debug"

	"github.com/openlift/openlift/internal/apierr"
	"github.com/openlift/openlift/internal/shapes"
)

// operation is one GameLift operation as the handler dispatches it. Everything
// reflection can work out ahead of time is worked out in NewHandler, so a
// request costs one reflect.New and one reflect.Value.Call.
type operation struct {
	name string
	// fn is the service's bound method; the zero Value means the operation
	// exists in GameLift but the service does not implement it.
	fn reflect.Value
	in reflect.Type // the shapes.<Op>Input struct type
}

var (
	contextType = reflect.TypeFor[context.Context]()
	errorType   = reflect.TypeFor[error]()
	shapesPkg   = reflect.TypeFor[shapes.Timestamp]().PkgPath()
)

// buildRegistry maps every GameLift operation name to its operation. Names the
// service has no method for are kept (with a zero fn) so that they can be told
// apart from names GameLift does not have at all.
func buildRegistry(service any) (map[string]*operation, error) {
	sv := reflect.ValueOf(service)
	st := sv.Type()
	ops := make(map[string]*operation, len(shapes.Operations))
	var errs []error
	for _, name := range shapes.Operations {
		op := &operation{name: name}
		ops[name] = op
		m, ok := st.MethodByName(name)
		if !ok {
			continue
		}
		fn := sv.Method(m.Index)
		in, err := checkSignature(name, fn.Type())
		if err != nil {
			errs = append(errs, err)
			continue
		}
		op.fn = fn
		op.in = in
	}
	return ops, errors.Join(errs...)
}

// checkSignature accepts exactly
// func(context.Context, *shapes.<Op>Input) (*shapes.<Op>Output, error)
// for the bound method type mt. The shapes types are matched by package and
// name because Go cannot look a type up by name at run time.
func checkSignature(name string, mt reflect.Type) (reflect.Type, error) {
	want := fmt.Sprintf("func(context.Context, *shapes.%sInput) (*shapes.%sOutput, error)", name, name)
	bad := func() error {
		return fmt.Errorf("api: service method %s has signature %s; want %s", name, mt, want)
	}
	if mt.IsVariadic() || mt.NumIn() != 2 || mt.NumOut() != 2 {
		return nil, bad()
	}
	if mt.In(0) != contextType || mt.Out(1) != errorType {
		return nil, bad()
	}
	if !isShapePtr(mt.In(1), name+"Input") || !isShapePtr(mt.Out(0), name+"Output") {
		return nil, bad()
	}
	return mt.In(1).Elem(), nil
}

func isShapePtr(t reflect.Type, name string) bool {
	return t.Kind() == reflect.Pointer &&
		t.Elem().Kind() == reflect.Struct &&
		t.Elem().PkgPath() == shapesPkg &&
		t.Elem().Name() == name
}

// call runs the service method. A panic becomes an internal error, so that the
// client gets a 500 it can retry instead of a torn connection, and the stack
// reaches the log.
func (op *operation) call(ctx context.Context, in reflect.Value) (out any, err error) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			out, err = nil, apierr.Internal(fmt.Errorf("panic in %s: %v\n%s", op.name, p, debug.Stack()))
		}
	}()
	res := op.fn.Call([]reflect.Value{reflect.ValueOf(ctx), in})
	if !res[1].IsNil() {
		return nil, res[1].Interface().(error)
	}
	if res[0].IsNil() {
		return nil, nil
	}
	return res[0].Interface(), nil
}
