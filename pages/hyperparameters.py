import streamlit as st

from components import state
from ftstudio.export import to_json

st.title("hyperparameters")
st.code(to_json(state.config()), language="json")
