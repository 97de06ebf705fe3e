"""A Dash app reading its dataset from the persistent filesystem at ../mount."""
import pathlib

import pandas as pd
from dash import Dash, dcc, html

MOUNT = pathlib.Path(__file__).resolve().parent.parent / "mount"

sales = pd.read_csv(MOUNT / "data" / "sales.csv")
by_region = sales.groupby("region", as_index=False)["revenue"].sum()

app = Dash(__name__)
server = app.server
app.layout = html.Div([
    html.H1("Sales by region"),
    dcc.Graph(figure={"data": [{"type": "bar", "x": by_region["region"], "y": by_region["revenue"]}]}),
])

if __name__ == "__main__":
    app.run(debug=True)
