package tppclient

import "encoding/json"

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
