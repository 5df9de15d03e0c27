package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"

	smithycbor "github.com/aws/smithy-go/encoding/cbor"
)

// The aws-sdk-go-v2 gamelift input and output structs name their members
// exactly as the wire does, so the JSON client reuses them: toWire turns an
// input struct into the JSON value botocore would send, and fromWire fills an
// output struct from a response, refusing anything a strict reading of the
// AWS JSON 1.1 rules refuses (timestamps that are not numbers, integers with a
// fraction, nulls, members the model does not have).

var timeType = reflect.TypeFor[time.Time]()

// toWire returns the JSON value of v and whether it is present. Nil pointers,
// nil slices and maps, and empty enum strings are absent, as botocore omits
// members the caller did not pass.
func toWire(v reflect.Value) (any, bool) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil, false
		}
		if v.Type().Elem() == timeType {
			t := v.Elem().Interface().(time.Time)
			return json.Number(fmt.Sprintf("%.3f", float64(t.UnixMilli())/1000)), true
		}
		return toWire(v.Elem())
	case reflect.Interface:
		if v.IsNil() {
			return nil, false
		}
		return toWire(v.Elem())
	case reflect.String:
		if v.Len() == 0 && v.Type().Name() != "string" {
			return nil, false // an unset enum
		}
		return v.String(), true
	case reflect.Bool:
		return v.Bool(), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int(), true
	case reflect.Float32, reflect.Float64:
		return v.Float(), true
	case reflect.Slice:
		if v.IsNil() {
			return nil, false
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return base64.StdEncoding.EncodeToString(v.Bytes()), true
		}
		out := make([]any, 0, v.Len())
		for i := range v.Len() {
			e, ok := toWire(v.Index(i))
			if !ok {
				e = nil
			}
			out = append(out, e)
		}
		return out, true
	case reflect.Map:
		if v.IsNil() {
			return nil, false
		}
		out := make(map[string]any, v.Len())
		for it := v.MapRange(); it.Next(); {
			e, _ := toWire(it.Value())
			out[it.Key().String()] = e
		}
		return out, true
	case reflect.Struct:
		if v.Type() == timeType {
			return json.Number(fmt.Sprintf("%.3f", float64(v.Interface().(time.Time).UnixMilli())/1000)), true
		}
		out := map[string]any{}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			if e, ok := toWire(v.Field(i)); ok {
				out[f.Name] = e
			}
		}
		return out, true
	}
	panic(fmt.Sprintf("toWire: unsupported kind %s", v.Kind()))
}

// fromWire fills dst (settable) from the decoded JSON value src (decoded with
// UseNumber). path names the member in errors.
func fromWire(path string, src any, dst reflect.Value) error {
	if src == nil {
		return fmt.Errorf("%s: null (openlift omits absent members)", path)
	}
	t := dst.Type()
	if t.Kind() == reflect.Pointer {
		p := reflect.New(t.Elem())
		if err := fromWire(path, src, p.Elem()); err != nil {
			return err
		}
		dst.Set(p)
		return nil
	}
	if t == timeType {
		n, ok := src.(json.Number)
		if !ok {
			return fmt.Errorf("%s: timestamp is %T %v, not a JSON number of epoch seconds", path, src, src)
		}
		f, err := n.Float64()
		if err != nil {
			return fmt.Errorf("%s: timestamp %s: %v", path, n, err)
		}
		sec, frac := math.Modf(f)
		dst.Set(reflect.ValueOf(time.Unix(int64(sec), int64(math.Round(frac*1e3))*1e6)))
		return nil
	}
	switch t.Kind() {
	case reflect.String:
		s, ok := src.(string)
		if !ok {
			return fmt.Errorf("%s: want a string, got %T %v", path, src, src)
		}
		dst.SetString(s)
	case reflect.Bool:
		b, ok := src.(bool)
		if !ok {
			return fmt.Errorf("%s: want a boolean, got %T %v", path, src, src)
		}
		dst.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := src.(json.Number)
		if !ok {
			return fmt.Errorf("%s: want an integer, got %T %v", path, src, src)
		}
		if strings.ContainsAny(n.String(), ".eE") {
			return fmt.Errorf("%s: integer member sent as %s", path, n)
		}
		i, err := n.Int64()
		if err != nil {
			return fmt.Errorf("%s: %v", path, err)
		}
		if dst.OverflowInt(i) {
			return fmt.Errorf("%s: %d overflows %s", path, i, t)
		}
		dst.SetInt(i)
	case reflect.Float32, reflect.Float64:
		n, ok := src.(json.Number)
		if !ok {
			return fmt.Errorf("%s: want a number, got %T %v", path, src, src)
		}
		f, err := n.Float64()
		if err != nil {
			return fmt.Errorf("%s: %v", path, err)
		}
		dst.SetFloat(f)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			s, ok := src.(string)
			if !ok {
				return fmt.Errorf("%s: blob is %T, not base64 text", path, src)
			}
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return fmt.Errorf("%s: %v", path, err)
			}
			dst.SetBytes(b)
			return nil
		}
		l, ok := src.([]any)
		if !ok {
			return fmt.Errorf("%s: want a list, got %T", path, src)
		}
		out := reflect.MakeSlice(t, len(l), len(l))
		for i, e := range l {
			if err := fromWire(fmt.Sprintf("%s[%d]", path, i), e, out.Index(i)); err != nil {
				return err
			}
		}
		dst.Set(out)
	case reflect.Map:
		m, ok := src.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: want a map, got %T", path, src)
		}
		out := reflect.MakeMapWithSize(t, len(m))
		for k, e := range m {
			ev := reflect.New(t.Elem()).Elem()
			if err := fromWire(path+"."+k, e, ev); err != nil {
				return err
			}
			out.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), ev)
		}
		dst.Set(out)
	case reflect.Struct:
		m, ok := src.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: want an object, got %T", path, src)
		}
		for k, e := range m {
			f, ok := t.FieldByName(k)
			if !ok || !f.IsExported() || len(f.Index) != 1 {
				return fmt.Errorf("%s: member %q is not in the model (%s)", path, k, t.Name())
			}
			if err := fromWire(path+"."+k, e, dst.FieldByIndex(f.Index)); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("%s: unsupported kind %s", path, t.Kind())
	}
	return nil
}

// cborToAny converts a smithy CBOR value to the shapes encoding/json decodes
// to (map[string]any, []any, string, ...), keeping tags as *smithycbor.Tag.
func cborToAny(v smithycbor.Value) any {
	switch v := v.(type) {
	case smithycbor.Map:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = cborToAny(e)
		}
		return m
	case smithycbor.List:
		l := make([]any, len(v))
		for i, e := range v {
			l[i] = cborToAny(e)
		}
		return l
	case smithycbor.String:
		return string(v)
	case *smithycbor.Nil:
		return nil
	default:
		return v
	}
}

// checkCBOR checks a decoded CBOR response against the output struct type t:
// every key must be a member of the model, timestamps must carry tag 1 and
// integers must be CBOR integers. (The Go client checks the value types of
// the members it reads, but silently skips unknown keys.)
func checkCBOR(path string, src any, t reflect.Type) error {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if src == nil {
		return fmt.Errorf("%s: null (openlift omits absent members)", path)
	}
	if t == timeType {
		tag, ok := src.(*smithycbor.Tag)
		if !ok || tag.ID != 1 {
			return fmt.Errorf("%s: timestamp is %T, not tag 1", path, src)
		}
		return nil
	}
	switch t.Kind() {
	case reflect.String:
		if _, ok := src.(string); !ok {
			return fmt.Errorf("%s: want a text string, got %T", path, src)
		}
	case reflect.Int32, reflect.Int64:
		switch src.(type) {
		case smithycbor.Uint, smithycbor.NegInt:
		default:
			return fmt.Errorf("%s: want a CBOR integer, got %T", path, src)
		}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return nil
		}
		l, ok := src.([]any)
		if !ok {
			return fmt.Errorf("%s: want a list, got %T", path, src)
		}
		for i, e := range l {
			if err := checkCBOR(fmt.Sprintf("%s[%d]", path, i), e, t.Elem()); err != nil {
				return err
			}
		}
	case reflect.Map:
		m, ok := src.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: want a map, got %T", path, src)
		}
		for k, e := range m {
			if err := checkCBOR(path+"."+k, e, t.Elem()); err != nil {
				return err
			}
		}
	case reflect.Struct:
		m, ok := src.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: want a map, got %T", path, src)
		}
		for k, e := range m {
			f, ok := t.FieldByName(k)
			if !ok || !f.IsExported() || len(f.Index) != 1 {
				return fmt.Errorf("%s: member %q is not in the model (%s)", path, k, t.Name())
			}
			if err := checkCBOR(path+"."+k, e, f.Type); err != nil {
				return err
			}
		}
	}
	return nil
}
