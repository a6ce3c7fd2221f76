package tppclient

import (
	"encoding/json"
	"net/url"
)

// rawAnswer keeps a list answer's JSON and its next page id.
type rawAnswer struct {
	Body []byte
	Next string
}

func (r *rawAnswer) UnmarshalJSON(b []byte) error {
	r.Body = append([]byte(nil), b...)
	var p struct {
		PageInfo struct {
			NextPage string `json:"nextPage"`
		} `json:"pageInfo"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	r.Next = p.PageInfo.NextPage
	return nil
}

// mbankRaw keeps an mBank list answer's JSON and the cursor of its next page.
type mbankRaw struct {
	Body []byte
	Next string
}

func (r *mbankRaw) UnmarshalJSON(b []byte) error {
	r.Body = append([]byte(nil), b...)
	var p struct {
		Links []struct {
			Rel  string `json:"rel"`
			Href string `json:"href"`
		} `json:"links"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	for _, l := range p.Links {
		if l.Rel == "nextPage" {
			if u, err := url.Parse(l.Href); err == nil {
				r.Next = u.Query().Get("cursor")
			}
		}
	}
	return nil
}
